// The fleet against a real Mosquitto: delivery, store-and-forward across broker and fleet restarts,
// commands, tamper events, last will, ACL, and the gateway transport.
#include <gtest/gtest.h>
#include <mosquitto.h>

#include <thread>

#include "tests/e2e_support.h"
#include "wattguard/fleet/fleet.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/command_signature.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::e2e {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<fleet::Fleet> make_fleet(const fleet::FleetConfig& config) {
  auto created = fleet::Fleet::create(config);
  if (!created.ok()) throw std::runtime_error(created.error().message);
  return std::move(created).value();
}

std::vector<std::string> ids_for(std::size_t meters) {
  fleet::FleetConfig c;
  c.meters = meters;
  return fleet::fleet_meter_ids(c);
}

// Every meter has at least `n` distinct readings.
bool all_have(const Collector& c, const std::vector<std::string>& ids, std::size_t n) {
  for (const auto& id : ids) {
    if (c.seqs_locked(id).size() < n) return false;
  }
  return true;
}

TEST(FleetMqtt, EveryReadingOfEveryMeterArrivesInOrderWithStatusOnline) {
  TempDir dir("fleet-e2e");
  const std::size_t meters = 6;
  fleet::FleetConfig config;
  const auto ids = ids_for(meters);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  Collector collector(broker.process->port(), broker.server_password);
  config = test_fleet_config(broker, meters, 20.0);
  auto f = make_fleet(config);
  f->start();
  ASSERT_TRUE(collector.wait_for([&] { return all_have(collector, ids, 8); }, 60s));
  f->stop();
  const auto stats = f->stats();
  EXPECT_EQ(stats.readings_made, stats.readings_acked);
  EXPECT_EQ(stats.readings_queued, 0u);
  EXPECT_EQ(stats.readings_dropped, 0u);
  ASSERT_TRUE(collector.wait_for(
      [&] {
        std::size_t n = 0;
        for (const auto& id : ids) n += collector.seqs_locked(id).size();
        return n == stats.readings_made;
      },
      10s));
  const auto readings = collector.readings();
  for (const auto& id : ids) {
    const auto& rs = readings.at(id);
    for (std::size_t k = 0; k < rs.size(); ++k) {
      EXPECT_EQ(rs[k].seq, k + 1) << id;  // in order, none missing, none twice
      EXPECT_EQ(rs[k].flags & protocol::kFlagReplayed, 0u);
      EXPECT_GT(rs[k].vrms, 200.0);
      if (k > 0) {
        EXPECT_EQ(rs[k].time_ms - rs[k - 1].time_ms, 5000);
        EXPECT_GE(rs[k].e_import_wh, rs[k - 1].e_import_wh);
      }
    }
  }
  // The clean stop said offline (retained), with a time: not the last will. The broker forwards those statuses
  // after the last readings, so wait for them rather than read whatever has arrived.
  collector.wait_for(
      [&] {
        const auto& now = collector.statuses_locked();
        for (const auto& id : ids) {
          if (!now.count(id) || now.at(id).online) return false;
        }
        return true;
      },
      10s);
  const auto statuses = collector.statuses();
  for (const auto& id : ids) {
    ASSERT_TRUE(statuses.count(id)) << id;
    EXPECT_FALSE(statuses.at(id).online);
    EXPECT_NE(statuses.at(id).time_ms, 0);
  }
  EXPECT_EQ(collector.rejected(), 0u);
}

TEST(FleetMqtt, BrokerRestartMidStreamLosesNothing) {
  TempDir dir("fleet-e2e");
  const std::size_t meters = 5;
  const auto ids = ids_for(meters);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  Collector collector(broker.process->port(), broker.server_password);
  auto config = test_fleet_config(broker, meters, 20.0);
  config.state_dir = dir.path() / "state";
  auto f = make_fleet(config);
  f->start();
  ASSERT_TRUE(collector.wait_for([&] { return all_have(collector, ids, 4); }, 60s));
  broker.process->stop();
  // 2 s at x20 = 40 s of readings (8 per meter) made with no broker.
  std::this_thread::sleep_for(2s);
  const uint64_t queued_while_down = f->stats().readings_queued;
  EXPECT_GE(queued_while_down, meters * 6);
  ASSERT_TRUE(broker.process->restart().ok());
  // Everything made so far arrives, including what was queued.
  const uint64_t made = f->stats().readings_made;
  ASSERT_TRUE(collector.wait_for(
      [&] {
        std::size_t n = 0;
        for (const auto& id : ids) n += collector.seqs_locked(id).size();
        return n >= made;
      },
      60s));
  f->stop(10000);
  const auto stats = f->stats();
  EXPECT_EQ(stats.readings_dropped, 0u);
  EXPECT_GT(stats.readings_replayed, 0u);
  EXPECT_EQ(stats.readings_made, stats.readings_acked);
  ASSERT_TRUE(collector.wait_for(
      [&] {
        std::size_t n = 0;
        for (const auto& id : ids) n += collector.seqs_locked(id).size();
        return n == stats.readings_made;
      },
      20s));
  std::size_t replayed = 0;
  for (const auto& [id, rs] : collector.readings()) {
    std::set<uint64_t> seqs;
    for (const auto& r : rs) {
      seqs.insert(r.seq);
      replayed += (r.flags & protocol::kFlagReplayed) != 0;
    }
    EXPECT_TRUE(contiguous(seqs, 1, *seqs.rbegin())) << id << " has a gap";
  }
  EXPECT_GE(replayed, meters * 6);
}

TEST(FleetMqtt, FleetRestartResumesSequenceRegistersAndSendsWhatWasQueued) {
  TempDir dir("fleet-e2e");
  const std::size_t meters = 3;
  const auto ids = ids_for(meters);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  auto config = test_fleet_config(broker, meters, 20.0);
  config.state_dir = dir.path() / "state";
  std::map<std::string, fleet::MeterSnapshot> before;
  {
    Collector collector(broker.process->port(), broker.server_password);
    auto f = make_fleet(config);
    f->start();
    ASSERT_TRUE(collector.wait_for([&] { return all_have(collector, ids, 3); }, 60s));
    // The broker goes away; the fleet keeps measuring, then is stopped with readings still queued.
    broker.process->stop();
    std::this_thread::sleep_for(1500ms);
    f->stop(200);
    EXPECT_GT(f->stats().readings_queued, 0u);
    for (const auto& id : ids) before[id] = *f->snapshot(id);
  }
  ASSERT_TRUE(broker.process->restart().ok());
  Collector collector(broker.process->port(), broker.server_password, "e2e-collector-2");
  auto f = make_fleet(config);
  EXPECT_EQ(f->stats().readings_resumed, f->stats().readings_queued);
  EXPECT_GT(f->stats().readings_resumed, 0u);
  f->start();
  for (const auto& id : ids) {
    // The queued readings, then new ones continuing the sequence.
    ASSERT_TRUE(collector.wait_for(
        [&] {
          const auto seqs = collector.seqs_locked(id);
          return !seqs.empty() && *seqs.rbegin() >= before[id].next_seq + 1;
        },
        60s))
        << id;
  }
  f->stop();
  const auto readings = collector.readings();
  for (const auto& id : ids) {
    std::set<uint64_t> seqs;
    double last_import = 0;
    for (const auto& r : readings.at(id)) {
      seqs.insert(r.seq);
      if (r.seq >= before[id].next_seq) {
        // New readings: registers continue from where the previous run stopped.
        EXPECT_GE(r.e_import_wh + 1e-9, static_cast<double>(before[id].import_uwh) * 1e-6 - 1e-3) << id;
        EXPECT_EQ(r.flags & protocol::kFlagReplayed, 0u);
      } else {
        EXPECT_NE(r.flags & protocol::kFlagReplayed, 0u);
      }
      last_import = std::max(last_import, r.e_import_wh);
    }
    // Nothing missing between the previous run's last acknowledged reading and the new ones.
    const uint64_t first = *seqs.begin();
    EXPECT_TRUE(contiguous(seqs, first, *seqs.rbegin())) << id;
    EXPECT_LT(first, before[id].next_seq);
  }
  // The restart is reported as a power-up after an outage.
  std::size_t power_ups = 0;
  for (const auto& e : collector.events()) power_ups += e.kind == protocol::EventKind::kPowerUp;
  EXPECT_EQ(power_ups, meters);
}

TEST(FleetMqtt, RelayOffIsObeyedAcknowledgedAndCurrentDropsToZero) {
  TempDir dir("fleet-e2e");
  const auto ids = ids_for(2);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  Collector collector(broker.process->port(), broker.server_password);
  auto config = test_fleet_config(broker, 2, 10.0);
  auto f = make_fleet(config);
  f->start();
  const std::string id = ids[1];
  ASSERT_TRUE(collector.wait_for([&] { return collector.seqs_locked(id).size() >= 2; }, 60s));
  protocol::Command cmd;
  cmd.id = "cmd-relay-1";
  cmd.meter_id = id;
  cmd.kind = protocol::CommandKind::kRelayOff;
  cmd.time_ms = f->now_ms();
  collector.send_command(cmd);
  ASSERT_TRUE(collector.wait_for(
      [&] {
        for (const auto& a : collector.acks_locked()) {
          if (a.id == "cmd-relay-1") return true;
        }
        return false;
      },
      30s));
  const auto acks = collector.acks();
  EXPECT_TRUE(acks.back().ok);
  EXPECT_EQ(acks.back().meter_id, id);
  EXPECT_EQ(acks.back().relay, protocol::RelayState::kOff);
  // The first full period after the ack measures no current.
  std::size_t at_ack = 0;
  collector.wait_for(
      [&] {
        at_ack = collector.readings_locked().at(id).size();
        return true;
      },
      1s);
  ASSERT_TRUE(collector.wait_for([&] { return collector.readings_locked().at(id).size() >= at_ack + 2; }, 30s));
  const auto last = collector.readings().at(id).back();
  EXPECT_LT(last.irms, 0.05);
  EXPECT_NEAR(last.p_w, 0.0, 2.0);
  EXPECT_NE(last.flags & protocol::kFlagRelayOpen, 0u);
  bool opened_event = false;
  for (const auto& e : collector.events())
    opened_event |= e.meter_id == id && e.kind == protocol::EventKind::kRelayOpened;
  EXPECT_TRUE(opened_event);
  EXPECT_FALSE(f->snapshot(id)->relay_closed);
  EXPECT_TRUE(f->snapshot(ids[0])->relay_closed);
  f->stop();
}

// A meter holding its command key obeys only the server's signed commands: someone with the server's broker
// login (the collector here) can neither send an unsigned relay command, nor forge one with another meter's
// key, nor replay a captured one.
TEST(FleetMqtt, AMeterWithAKeyRefusesUnsignedForgedAndReplayedCommands) {
  TempDir dir("fleet-e2e-signed");
  const auto ids = ids_for(2);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  const protocol::CommandKey master = protocol::random_command_key();
  for (const auto& id : ids) broker.credentials.meters.at(id).command_key = protocol::derive_command_key(master, id);
  Collector collector(broker.process->port(), broker.server_password);
  auto config = test_fleet_config(broker, 2, 10.0);
  auto f = make_fleet(config);
  f->start();
  const std::string id = ids[1];
  ASSERT_TRUE(collector.wait_for([&] { return collector.seqs_locked(id).size() >= 2; }, 60s));
  const auto ack_of = [&](const std::string& command_id) -> std::optional<protocol::CommandAck> {
    std::optional<protocol::CommandAck> found;
    collector.wait_for(
        [&] {
          for (const auto& a : collector.acks_locked()) {
            if (a.id == command_id) found = a;
          }
          return found.has_value();
        },
        30s);
    return found;
  };
  const auto relay = [&](const std::string& command_id, protocol::CommandKind kind) {
    protocol::Command c;
    c.id = command_id;
    c.meter_id = id;
    c.kind = kind;
    c.time_ms = f->now_ms();
    c.expires_ms = c.time_ms + 600'000;
    return c;
  };

  collector.send_command(relay("unsigned-off", protocol::CommandKind::kRelayOff));
  auto ack = ack_of("unsigned-off");
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->ok);
  EXPECT_EQ(ack->message, "signature unsigned");

  protocol::Command forged = relay("forged-off", protocol::CommandKind::kRelayOff);
  protocol::sign_command(forged, protocol::derive_command_key(master, ids[0]), 10);
  collector.send_command(forged);
  ack = ack_of("forged-off");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->message, "signature forged");
  EXPECT_TRUE(f->snapshot(id)->relay_closed);  // nothing of the above touched the relay

  protocol::Command off = relay("signed-off", protocol::CommandKind::kRelayOff);
  protocol::sign_command(off, protocol::derive_command_key(master, id), 100);
  collector.send_command(off);
  ack = ack_of("signed-off");
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->ok) << ack->message;
  EXPECT_FALSE(f->snapshot(id)->relay_closed);

  protocol::Command on = relay("signed-on", protocol::CommandKind::kRelayOn);
  protocol::sign_command(on, protocol::derive_command_key(master, id), 101);
  collector.send_command(on);
  ASSERT_TRUE(ack_of("signed-on") && ack_of("signed-on")->ok);
  EXPECT_TRUE(f->snapshot(id)->relay_closed);
  // The captured relay_off sent again, byte for byte (same id and nonce): a replay.
  protocol::Command replay = off;
  replay.id = "signed-off";
  collector.send_command(replay);
  ASSERT_TRUE(collector.wait_for(
      [&] {
        int n = 0;
        for (const auto& a : collector.acks_locked()) n += a.id == "signed-off";
        return n >= 2;
      },
      30s));
  std::string last_answer;
  for (const auto& a : collector.acks()) {
    if (a.id == "signed-off") last_answer = a.message;
  }
  EXPECT_EQ(last_answer, "signature replayed");
  EXPECT_TRUE(f->snapshot(id)->relay_closed);
  f->stop();
}

TEST(FleetMqtt, MeterWithABypassRaisesNeutralMismatch) {
  TempDir dir("fleet-e2e");
  const auto ids = ids_for(2);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  Collector collector(broker.process->port(), broker.server_password);
  auto config = test_fleet_config(broker, 2, 30.0);
  config.thieves.fraction = 0.5;
  config.thieves.kinds = {fleet::TheftKind::kBypass};
  config.thieves.onset_min_s = 10;
  config.thieves.onset_max_s = 10;
  auto f = make_fleet(config);
  f->start();
  std::string thief;
  for (const auto& id : ids) {
    if (f->snapshot(id)->theft.kind == fleet::TheftKind::kBypass) thief = id;
  }
  ASSERT_FALSE(thief.empty());
  ASSERT_TRUE(collector.wait_for(
      [&] {
        for (const auto& e : collector.events_locked()) {
          if (e.kind == protocol::EventKind::kNeutralMismatch && e.edge == protocol::EventEdge::kOnset) return true;
        }
        return false;
      },
      60s));
  f->stop();
  for (const auto& e : collector.events()) {
    if (e.kind == protocol::EventKind::kNeutralMismatch) {
      EXPECT_EQ(e.meter_id, thief);
    }
  }
}

TEST(FleetMqtt, PoweredOffMeterGoesOfflineThroughItsLastWill) {
  TempDir dir("fleet-e2e");
  const auto ids = ids_for(2);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  Collector collector(broker.process->port(), broker.server_password);
  auto f = make_fleet(test_fleet_config(broker, 2, 10.0));
  f->start();
  ASSERT_TRUE(collector.wait_for(
      [&] {
        const auto& s = collector.statuses_locked();
        return s.count(ids[0]) && s.at(ids[0]).online && s.count(ids[1]) && s.at(ids[1]).online;
      },
      30s));
  ASSERT_TRUE(f->stop_meter(ids[0]));
  EXPECT_FALSE(f->stop_meter("no-such-meter"));
  ASSERT_TRUE(collector.wait_for([&] { return !collector.statuses_locked().at(ids[0]).online; }, 30s));
  // The will has no time: it is the broker speaking, not the meter.
  EXPECT_EQ(collector.statuses().at(ids[0]).time_ms, 0);
  EXPECT_TRUE(collector.statuses().at(ids[1]).online);
  f->stop();
}

TEST(FleetMqtt, AclKeepsAMeterToItsOwnTopics) {
  TempDir dir("fleet-e2e");
  const auto ids = ids_for(2);
  FleetBroker broker = start_broker(dir.path() / "broker", ids);
  Collector collector(broker.process->port(), broker.server_password);
  mosquitto* m = mosquitto_new("impostor", true, nullptr);
  mosquitto_username_pw_set(m, ids[0].c_str(), broker.credentials.find(ids[0])->password.c_str());
  ASSERT_EQ(mosquitto_connect(m, "127.0.0.1", broker.process->port(), 10), MOSQ_ERR_SUCCESS);
  mosquitto_loop_start(m);
  protocol::Reading fake;
  fake.seq = 1;
  fake.time_ms = 1'700'000'000'000;
  fake.vrms = 230;
  for (const auto& id : {ids[1], ids[0]}) {
    fake.meter_id = id;
    const std::string payload = protocol::encode(fake);
    const std::string topic = protocol::make_topic(id, protocol::TopicKind::kReading);
    mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
  }
  // Its own topic arrives; the other meter's was dropped by the broker (published first, so it
  // would have arrived first).
  ASSERT_TRUE(collector.wait_for([&] { return collector.readings_locked().count(ids[0]) > 0; }, 10s));
  EXPECT_EQ(collector.readings().count(ids[1]), 0u);
  mosquitto_disconnect(m);
  mosquitto_loop_stop(m, false);
  mosquitto_destroy(m);
}

TEST(FleetMqtt, GatewayTransportDeliversEveryMeterAndRoutesCommands) {
  TempDir dir("fleet-e2e");
  const std::size_t meters = 40;
  const auto ids = ids_for(meters);
  FleetBroker broker = start_broker(dir.path() / "broker", {});
  Collector collector(broker.process->port(), broker.server_password);
  auto config = test_fleet_config(broker, meters, 20.0);
  config.transport = fleet::Transport::kGateway;
  config.gateway_connections = 3;
  config.fidelity = fleet::Fidelity::kFast;
  auto f = make_fleet(config);
  f->start();
  ASSERT_TRUE(collector.wait_for([&] { return all_have(collector, ids, 3); }, 60s));
  EXPECT_EQ(f->stats().links, 3u);
  protocol::Command cmd;
  cmd.id = "gw-ping";
  cmd.meter_id = ids[17];
  cmd.kind = protocol::CommandKind::kPing;
  cmd.time_ms = f->now_ms();
  collector.send_command(cmd);
  ASSERT_TRUE(collector.wait_for([&] { return !collector.acks_locked().empty(); }, 30s));
  f->stop();
  const auto acks = collector.acks();
  ASSERT_EQ(acks.size(), 1u);  // answered once, by the gateway that carries the meter
  EXPECT_EQ(acks[0].meter_id, ids[17]);
  EXPECT_TRUE(acks[0].ok);
  const auto stats = f->stats();
  EXPECT_EQ(stats.readings_made, stats.readings_acked);
}

}  // namespace
}  // namespace wattguard::e2e
