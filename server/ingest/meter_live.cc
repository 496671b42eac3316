// Names of the connectivity states.
#include "wattguard/ingest/meter_live.h"

namespace wattguard::ingest {

const char* connectivity_name(Connectivity c) {
  switch (c) {
    case Connectivity::kUnknown: return "unknown";
    case Connectivity::kOnline: return "online";
    case Connectivity::kOffline: return "offline";
    case Connectivity::kStale: return "stale";
  }
  return "unknown";
}

}  // namespace wattguard::ingest
