// The open-file limit: every virtual meter with its own connection holds a socket, and a broker
// started as a child inherits the limit of the process that starts it.
#pragma once

#include <cstdint>

namespace wattguard::fleet {

// Raises this process's open-file limit to its hard limit; returns the new soft limit (0 if it
// cannot be read). Call it before starting threads or children that need the sockets.
uint64_t raise_fd_limit();

}  // namespace wattguard::fleet
