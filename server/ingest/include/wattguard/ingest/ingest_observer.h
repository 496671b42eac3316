// Callbacks the API uses to push live data (WebSocket) as the ingest service sees it.
#pragma once

#include "wattguard/ingest/meter_live.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::ingest {

// Register with IngestService::add_observer. Callbacks run on the ingest service's own threads
// (never concurrently with each other for one observer), so they must be quick and must not block:
// copy what you need and hand it to your own executor (e.g. post to the Asio io_context).
// Exceptions thrown from a callback are caught and logged, never propagated.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  // A reading has been committed to the store (duplicates are not reported).
  virtual void on_reading(const protocol::Reading& reading) { (void)reading; }
  // A meter's connectivity changed: online, stale or offline (from its status topic or the liveness timer).
  virtual void on_status(const MeterLive& state) { (void)state; }
  // An event was stored (meter-raised, or server-raised such as register_rollback and comm_loss).
  virtual void on_event(const storage::StoredEvent& event) { (void)event; }
  // A command changed state: sent, acked, failed or timed_out (command.state says which).
  virtual void on_ack(const storage::CommandRecord& command) { (void)command; }
};

}  // namespace wattguard::ingest
