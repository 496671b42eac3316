// The broker binds a client id to its user (use_username_as_clientid): one meter's login can neither take over
// the server's session (the broker would drop the server's connection and, with it, the readings queued for it)
// nor kick another meter off, whatever client id it claims.
#include <gtest/gtest.h>

#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/test_support/test_client.h"

namespace wattguard::e2e {
namespace {

using namespace std::chrono_literals;
using test_support::TestClient;

TestClient::Options login(const std::string& client_id, const std::string& user, const std::string& password) {
  TestClient::Options o;
  o.client_id = client_id;
  o.username = user;
  o.password = password;
  return o;
}

TEST(BrokerClientIds, AMetersLoginClaimingTheServersOrAnotherMetersClientIdKicksNobody) {
  TempDir dir("client-id");
  const std::vector<std::string> ids = {"m-alice", "m-bob"};
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  const int port = broker.process->port();
  const auto& alice = broker.credentials.meters.at("m-alice");
  const auto& bob = broker.credentials.meters.at("m-bob");

  TestClient server(port, login("wattguard-server-1", kServerUser, broker.server_password));
  ASSERT_EQ(server.connect(), 0);
  TestClient bob_meter(port, login("m-bob", "m-bob", bob.password));
  ASSERT_EQ(bob_meter.connect(), 0);

  // Alice's login (a stolen one, say) claims the server's client id, then Bob's.
  TestClient as_server(port, login("wattguard-server-1", "m-alice", alice.password));
  EXPECT_EQ(as_server.connect(), 0);
  TestClient as_bob(port, login("m-bob", "m-alice", alice.password));
  EXPECT_EQ(as_bob.connect(), 0);
  // A takeover shows within milliseconds (the broker closes the older connection at the CONNECT); give it ample.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(server.disconnects(), 0) << "a meter's login kicked the server off the broker";
  EXPECT_EQ(bob_meter.disconnects(), 0) << "a meter's login kicked another meter off the broker";
  EXPECT_TRUE(server.is_connected());
  EXPECT_TRUE(bob_meter.is_connected());
  // The two Alice connections share her user, hence her client id: the later one replaced the earlier one (and
  // they may go on replacing each other as they reconnect), which harms nobody but Alice.
  EXPECT_GE(as_server.disconnects() + as_bob.disconnects(), 1);
}

}  // namespace
}  // namespace wattguard::e2e
