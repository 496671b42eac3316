// SIGINT/SIGTERM collected synchronously with sigtimedwait.
#include "wattguard/fleet/stop_signals.h"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace wattguard::fleet {
namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

sigset_t previous_mask;

}  // namespace

StopSignals::StopSignals() {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask);
}

StopSignals::~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr); }

int StopSignals::wait(std::chrono::milliseconds timeout) {
  const sigset_t set = stop_set();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1'000'000);
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EINTR) continue;
    return 0;
  }
}

}  // namespace wattguard::fleet
