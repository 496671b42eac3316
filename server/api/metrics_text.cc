// Which counters /metrics exposes and under which names (docs/api.md "Operations" lists them).
#include "server/api/metrics_text.h"

#include <cstdint>
#include <string>

#include "server/api/alert_routes.h"

namespace wattguard::api {
namespace {

double as_double(uint64_t n) { return static_cast<double>(n); }

void write_ingest(const ingest::IngestHealth& h, MetricsWriter& out) {
  out.gauge("wattguard_mqtt_connected", "1 while the server's ingest session with the MQTT broker is up",
            h.connected ? 1 : 0);
  out.counter("wattguard_mqtt_connects_total", "Successful (re)connections of ingest to the broker",
              as_double(h.connects));
  out.counter("wattguard_ingest_messages_total", "MQTT messages received on ingest's subscriptions",
              as_double(h.messages_received));
  out.counter("wattguard_ingest_readings_received_total", "Readings received (every ingest protocol)",
              as_double(h.readings_received));
  out.counter("wattguard_ingest_readings_stored_total", "Readings committed to storage as new rows",
              as_double(h.readings_stored));
  out.counter("wattguard_ingest_readings_duplicate_total",
              "Readings already stored (meter, seq), ignored: redelivery or replay", as_double(h.readings_duplicate));
  out.counter("wattguard_ingest_readings_late_total", "Readings stored out of time order (store-and-forward)",
              as_double(h.readings_late));
  out.gauge("wattguard_ingest_readings_pending", "Readings accepted and waiting for the storage writer",
            as_double(h.pending_readings));
  out.gauge("wattguard_storage_failing", "1 while the store's writes fail (readings wait in the queue and the broker)",
            h.storage_failing ? 1 : 0);
  out.counter("wattguard_ingest_journal_append_errors_total",
              "Messages that could not be journaled before their acknowledgement (unprotected against a kill)",
              as_double(h.journal_append_errors));
  out.counter("wattguard_ingest_statuses_total", "Status messages received", as_double(h.statuses_received));
  out.counter("wattguard_ingest_events_stored_total", "Events stored, meter- and server-raised",
              as_double(h.events_stored));
  out.family("wattguard_ingest_rejected_total", MetricType::kCounter, "Messages refused, by reason");
  for (const auto& [reason, count] : h.rejected) {
    out.sample("wattguard_ingest_rejected_total", as_double(count), {{"reason", reason}});
  }
  const std::size_t known = h.meters_known;
  const std::size_t heard = h.meters_online + h.meters_stale + h.meters_offline;
  out.family("wattguard_meters", MetricType::kGauge, "Provisioned meters by connectivity");
  out.sample("wattguard_meters", as_double(h.meters_online), {{"state", "online"}});
  out.sample("wattguard_meters", as_double(h.meters_stale), {{"state", "stale"}});
  out.sample("wattguard_meters", as_double(h.meters_offline), {{"state", "offline"}});
  out.sample("wattguard_meters", as_double(known > heard ? known - heard : 0), {{"state", "unknown"}});
  out.counter("wattguard_commands_sent_total", "Commands the broker accepted for a meter", as_double(h.commands_sent));
  out.counter("wattguard_commands_acked_total", "Command acknowledgements received from meters",
              as_double(h.acks_received));
  out.counter("wattguard_commands_timed_out_total", "Commands not acknowledged in time",
              as_double(h.commands_timed_out));
  out.counter("wattguard_storage_batches_total", "Reading batches written to storage", as_double(h.batches_written));
  out.counter("wattguard_storage_errors_total", "Reading batches the store failed to write (retried)",
              as_double(h.store_errors));
}

void write_http_and_live(const ApiDeps& deps, MetricsWriter& out) {
  if (deps.http_requests) {
    out.family("wattguard_http_responses_total", MetricType::kCounter, "HTTP responses by method and status class");
    for (const auto& c : deps.http_requests()) {
      out.sample("wattguard_http_responses_total", as_double(c.count),
                 {{"method", c.method}, {"status", c.status_class}});
    }
  }
  if (deps.open_connections) {
    out.gauge("wattguard_http_open_connections", "Open HTTP and WebSocket connections", deps.open_connections());
  }
  const LiveHub::Stats live = deps.hub->stats();
  out.gauge("wattguard_websocket_clients", "WebSocket clients of the live feed", as_double(live.clients));
  out.counter("wattguard_websocket_messages_total", "Live messages published to the hub", as_double(live.published));
  out.counter("wattguard_websocket_deliveries_total", "Live messages handed to a client (message x client)",
              as_double(live.delivered));
  out.counter("wattguard_websocket_dropped_clients_total", "WebSocket clients dropped for a full queue",
              as_double(live.dropped_clients));
}

void write_per_meter(const std::vector<ingest::MeterLive>& meters, MetricsWriter& out) {
  out.family("wattguard_meter_power_watts", MetricType::kGauge, "Real power of the meter's newest reading");
  out.family("wattguard_meter_energy_import_joules_total", MetricType::kCounter,
             "The meter's cumulative import register (1 Wh = 3600 J)");
  out.family("wattguard_meter_voltage_volts", MetricType::kGauge, "RMS voltage of the meter's newest reading");
  out.family("wattguard_meter_last_seen_timestamp_seconds", MetricType::kGauge,
             "When the server last heard from the meter (Unix time)");
  for (const auto& m : meters) {
    const MetricLabels labels = {{"meter", m.meter_id}};
    if (m.last_seen_ms > 0) {
      out.sample("wattguard_meter_last_seen_timestamp_seconds", static_cast<double>(m.last_seen_ms) / 1000.0, labels);
    }
    if (!m.last_reading) continue;
    out.sample("wattguard_meter_power_watts", m.last_reading->p_w, labels);
    out.sample("wattguard_meter_energy_import_joules_total", m.last_reading->e_import_wh * 3600.0, labels);
    out.sample("wattguard_meter_voltage_volts", m.last_reading->vrms, labels);
  }
}

}  // namespace

void write_server_metrics(ApiContext& context, MetricsWriter& out) {
  const ApiDeps& deps = context.deps();
  write_ingest(deps.ingest->health(), out);
  write_http_and_live(deps, out);
  if (deps.alerts != nullptr) {
    out.gauge("wattguard_alerts_open", "Alerts open or acknowledged, not yet closed", deps.alerts->open_total());
  }
  const int64_t now = context.now_ms();
  out.gauge("process_start_time_seconds", "When the server started (Unix time)",
            static_cast<double>(context.started_ms()) / 1000.0);
  out.gauge("wattguard_uptime_seconds", "Seconds since the server started",
            static_cast<double>(now - context.started_ms()) / 1000.0);
  if (deps.metrics_per_meter) write_per_meter(deps.ingest->live_states(), out);
}

}  // namespace wattguard::api
