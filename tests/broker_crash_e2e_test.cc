// A broker that crashes before it ever saved the server's session comes back without the server's
// subscription: what meters publish then has no subscriber. With MQTT 3.1.1 the broker acknowledges such a
// reading like any other and the meter forgets it; the meters speak MQTT 5, whose PUBACK says "no matching
// subscribers", and keep the reading until the server is back.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/fleet/fleet.h"

namespace wattguard::e2e {
namespace {

using namespace std::chrono_literals;

TEST(BrokerCrash, ReadingsPublishedWhileTheServersSessionIsLostAreHeldUntilItSubscribesAgain) {
  TempDir dir("broker-crash");
  const std::size_t meters = 4;
  fleet::FleetConfig probe;
  probe.meters = meters;
  const auto ids = fleet::fleet_meter_ids(probe);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  auto first = std::make_unique<Collector>(broker.process->port(), broker.server_password, "e2e-server");
  auto created = fleet::Fleet::create(test_fleet_config(broker, meters, 20.0));
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto f = std::move(created).value();
  f->start();
  ASSERT_TRUE(first->wait_for(
      [&] {
        for (const auto& id : ids) {
          if (first->seqs_locked(id).size() < 3) return false;
        }
        return true;
      },
      60s));

  // Quiet the meters and let the server have everything, so the crash itself loses nothing in flight.
  f->pause_measuring(true);
  const uint64_t made_before = f->stats().readings_made;
  ASSERT_TRUE(first->wait_for(
      [&] {
        std::size_t n = 0;
        for (const auto& id : ids) n += first->seqs_locked(id).size();
        return n == made_before;
      },
      20s));

  std::map<std::string, std::set<uint64_t>> seqs;
  first->wait_for(
      [&] {
        for (const auto& id : ids) seqs[id] = first->seqs_locked(id);
        return true;
      },
      0ms);

  // The crash before any save: no persistence file, so the restarted broker knows no server session. The server
  // is down too (as when both restart with the machine), so nothing subscribes for a while.
  broker.process->kill();
  first.reset();
  std::filesystem::remove(broker.process->dir() / "mosquitto.db");
  ASSERT_TRUE(broker.process->restart().ok());
  f->pause_measuring(false);
  // 3 s at x20: a minute of readings (12 per meter) published with no subscriber.
  std::this_thread::sleep_for(3s);
  const auto unrouted = f->stats().readings_unrouted;
  EXPECT_GT(unrouted, 0u) << "the broker never said it had no subscriber";

  Collector second(broker.process->port(), broker.server_password, "e2e-server");
  f->pause_measuring(true);
  const uint64_t made = f->stats().readings_made;
  ASSERT_GT(made, made_before + meters * 6);
  const bool all_arrived = second.wait_for(
      [&] {
        std::size_t n = 0;
        for (const auto& id : ids) n += second.seqs_locked(id).size();
        return n >= made - made_before;
      },
      30s);
  f->stop(5000);
  EXPECT_TRUE(all_arrived);

  // Each meter's readings, across the two server sessions, are 1..last with none missing.
  std::size_t total = 0;
  second.wait_for(
      [&] {
        for (const auto& id : ids) {
          const auto later = second.seqs_locked(id);
          seqs[id].insert(later.begin(), later.end());
        }
        return true;
      },
      0ms);
  for (const auto& id : ids) {
    const auto& got = seqs[id];
    ASSERT_FALSE(got.empty()) << id;
    total += got.size();
    EXPECT_EQ(got.size(), *got.rbegin()) << id << ": a reading published while no server was subscribed was lost";
  }
  EXPECT_EQ(total, made);
  const auto stats = f->stats();
  EXPECT_EQ(stats.readings_refused, 0u);
  EXPECT_EQ(stats.readings_dropped, 0u);
}

}  // namespace
}  // namespace wattguard::e2e
