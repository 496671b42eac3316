// The process's open-file limit: servers raise it at start, since every connection is a file descriptor.
// Thread-safe (one system call each).
#pragma once

#include <cstdint>

namespace wattguard {

// Raises the soft RLIMIT_NOFILE to the hard limit. Returns the soft limit in force afterwards, or -1 when it could
// not be read; a soft limit below the hard one after the call means raising it was refused.
int64_t raise_open_file_limit();

}  // namespace wattguard
