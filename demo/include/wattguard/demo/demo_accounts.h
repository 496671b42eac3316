// The demo's consumer accounts: the slab tariff of the issue that asked for bills (an Indian domestic
// telescopic tariff), and one prepaid meter, so bills, notices and prepaid credit show without configuration.
#pragma once

#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/serve/server.h"

namespace wattguard::demo {

// Sets the demo tariff in the config unless the caller configured tariffs of its own.
Expected<void> add_demo_tariff(serve::ServerConfig& config);

// Makes the last of `meters` prepaid with an opening top-up, once (a reused data directory keeps its ledger).
Expected<void> open_demo_accounts(serve::Server& server, const std::vector<std::string>& meters);

}  // namespace wattguard::demo
