// Ingest observer that feeds the live hub.
#include "server/api/live_publisher.h"

#include "server/api/api_json.h"

namespace wattguard::api {

void LivePublisher::on_reading(const protocol::Reading& reading) {
  hub_.publish(reading.meter_id, std::make_shared<const std::string>(live_reading_message(reading)));
}

void LivePublisher::on_status(const ingest::MeterLive& state) {
  hub_.publish(state.meter_id, std::make_shared<const std::string>(live_status_message(state)));
}

void LivePublisher::on_event(const storage::StoredEvent& event) {
  hub_.publish(event.event.meter_id, std::make_shared<const std::string>(live_event_message(event)));
}

void LivePublisher::on_ack(const storage::CommandRecord& command) {
  hub_.publish(command.meter_id, std::make_shared<const std::string>(live_command_message(command)));
}

}  // namespace wattguard::api
