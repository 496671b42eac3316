// The server's own series of GET /metrics: ingest, rejections by reason, meters by connectivity, commands,
// storage, HTTP, the live feed, alerts, the process and (opt-in) each meter. Thread-safe: reads counters only.
#pragma once

#include "server/api/api_context.h"
#include "wattguard/api/metrics_writer.h"

namespace wattguard::api {

// Adds the families above to `out`; the caller adds ApiDeps::metrics_sources' after them.
void write_server_metrics(ApiContext& context, MetricsWriter& out);

}  // namespace wattguard::api
