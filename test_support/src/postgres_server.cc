// The shared private PostgreSQL of a test binary.
#include "wattguard/test_support/postgres_server.h"

#include <memory>
#include <optional>

namespace wattguard::test_support {

Expected<PostgresServer*> shared_postgres() {
  static std::unique_ptr<PostgresServer> server;
  static std::optional<Error> failure;  // not retried: every later test fails at once with the same reason
  if (!server && !failure) {
    auto s = PostgresServer::start();
    if (s.ok()) {
      server = std::move(s.value());
    } else {
      failure = s.error();
    }
  }
  if (!server) return *failure;
  return server.get();
}

}  // namespace wattguard::test_support
