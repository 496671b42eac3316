// Clean stops on SIGINT/SIGTERM for long-running commands (fleet, demo, bench).
//
// The signals are blocked in the calling thread before any other thread starts (threads inherit
// the mask), and the main thread collects them with sigtimedwait: no async handler, so stopping
// is ordinary code.
#pragma once

#include <chrono>

namespace wattguard::fleet {

class StopSignals {
 public:
  // Blocks SIGINT and SIGTERM in this thread (call before starting threads).
  StopSignals();
  // Restores the previous mask.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Waits up to `timeout` for SIGINT or SIGTERM; returns the signal number, or 0 on timeout.
  int wait(std::chrono::milliseconds timeout);
};

}  // namespace wattguard::fleet
