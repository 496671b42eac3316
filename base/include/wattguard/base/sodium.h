// libsodium's one-time start-up, shared by every part that hashes passwords or draws random secrets.
#pragma once

namespace wattguard {

// Initialises libsodium once per process (thread-safe; later calls are free). libsodium only fails to start
// when the system has no usable random source, which leaves nothing safe to do: that is a bug in the host
// environment, reported by an exception at the process edge, not an input error.
void ensure_sodium();

}  // namespace wattguard
