// The once-only libsodium initialisation.
#include "wattguard/base/sodium.h"

#include <sodium.h>

#include <stdexcept>

namespace wattguard {

void ensure_sodium() {
  // A function-local static is initialised once even when threads race to it.
  static const bool kSodiumReady = sodium_init() >= 0;
  if (!kSodiumReady) throw std::runtime_error("libsodium failed to initialise: no usable random source");
}

}  // namespace wattguard
