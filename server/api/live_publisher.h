// Turns what the ingest service sees (stored readings, status changes, events, command state
// changes) into live WebSocket messages on the LiveHub.
#pragma once

#include "wattguard/api/live_hub.h"
#include "wattguard/ingest/ingest_observer.h"

namespace wattguard::api {

// Callbacks run on ingest threads; each one serialises once and hands the text to the hub,
// which only queues it per client, so nothing here blocks.
class LivePublisher final : public ingest::IngestObserver {
 public:
  explicit LivePublisher(LiveHub& hub) : hub_(hub) {}

  void on_reading(const protocol::Reading& reading) override;
  void on_status(const ingest::MeterLive& state) override;
  void on_event(const storage::StoredEvent& event) override;
  void on_ack(const storage::CommandRecord& command) override;

 private:
  LiveHub& hub_;
};

}  // namespace wattguard::api
