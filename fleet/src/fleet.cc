// Building a fleet (ids, households, thieves, resumed state, links) and running its shards.
#include "wattguard/fleet/fleet.h"

#include <mosquitto.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <future>
#include <mutex>

#include "shard.h"
#include "wattguard/base/clock.h"
#include "wattguard/fleet/fd_limit.h"
#include "wattguard/fleet/fleet_journal.h"
#include "wattguard/fleet/virtual_clock.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/sim/random.h"

namespace wattguard::fleet {
namespace {

// Reserved descriptors besides the meters' sockets: stdio, epolls, journal, logs, SQLite...
constexpr uint64_t kSpareDescriptors = 200;

std::once_flag mosquitto_init_once;

// Local time of day and day number (0 = a Monday) of a Unix time, for the household's routine.
void local_day(int64_t unix_ms, double* time_of_day_s, int64_t* day) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  const double local_s = static_cast<double>(unix_ms) / 1000.0 + static_cast<double>(tm.tm_gmtoff);
  const double days = std::floor(local_s / 86400.0);
  *time_of_day_s = local_s - days * 86400.0;
  // 1970-01-01 was a Thursday: +3 makes Monday day 0 (mod 7).
  *day = static_cast<int64_t>(days) + 3;
}

}  // namespace

const char* transport_name(Transport t) { return t == Transport::kGateway ? "gateway" : "per-meter"; }

const char* mqtt_version_name(MqttVersion v) { return v == MqttVersion::kV5 ? "5" : "3.1.1"; }

std::optional<MqttVersion> mqtt_version_from_name(const std::string& name) {
  if (name == "5") return MqttVersion::kV5;
  if (name == "3.1.1") return MqttVersion::kV311;
  return std::nullopt;
}

std::vector<std::string> fleet_meter_ids(const FleetConfig& config) {
  std::vector<std::string> ids;
  ids.reserve(config.meters);
  for (std::size_t k = 0; k < config.meters; ++k) {
    std::string number = std::to_string(config.first_number + k);
    if (number.size() < config.id_width) number.insert(0, config.id_width - number.size(), '0');
    ids.push_back(config.id_prefix + number);
  }
  return ids;
}

namespace {

// A setting out of range: the message reads "<field>: <value><what>" (the text the CLI prints).
Error bad_setting(const std::string& field, const std::string& value, const std::string& what) {
  return Error::invalid(field, value, field + ": " + value + what);
}

}  // namespace

Expected<void> validate(const FleetConfig& c) {
  if (c.meters < 1 || c.meters > 1'000'000)
    return bad_setting("meters", std::to_string(c.meters), " is not in 1..1000000");
  if (c.period_ms < 1000 || c.period_ms > 3'600'000 || c.period_ms % 1000 != 0) {
    return bad_setting("period", std::to_string(c.period_ms / 1000.0),
                       " s is not a whole number of seconds in 1..3600");
  }
  if (c.broker_port < 1 || c.broker_port > 65535) {
    return bad_setting("broker port", std::to_string(c.broker_port), " is not in 1..65535");
  }
  for (const BrokerNode& node : c.broker_nodes) {
    if (node.port < 1 || node.port > 65535) {
      return bad_setting("broker port", std::to_string(node.port), " is not in 1..65535");
    }
    if (node.host.empty()) return bad_setting("broker host", "(empty)", " is not a host name or address");
  }
  if (!(c.speed >= 0.01 && c.speed <= 10000))
    return bad_setting("speed", std::to_string(c.speed), " is not in 0.01..10000");
  if (c.threads < 1 || c.threads > 64) return bad_setting("threads", std::to_string(c.threads), " is not in 1..64");
  if (c.transport == Transport::kGateway && (c.gateway_connections < 1 || c.gateway_connections > 1024)) {
    return bad_setting("gateway connections", std::to_string(c.gateway_connections), " is not in 1..1024");
  }
  if (c.fidelity == Fidelity::kSamples && (c.sample_rate_hz < 1000 || c.sample_rate_hz > 20000)) {
    return bad_setting("sample rate", std::to_string(c.sample_rate_hz), " Hz is not in 1000..20000");
  }
  if (!(c.thieves.fraction >= 0 && c.thieves.fraction <= 1)) {
    return bad_setting("thieves", std::to_string(c.thieves.fraction), " is not a fraction in 0..1");
  }
  if (c.inflight_per_meter < 1 || c.inflight_per_meter > 1000) {
    return bad_setting("inflight per meter", std::to_string(c.inflight_per_meter), " is not in 1..1000");
  }
  // Once here, not at each of thousands of connections: a wrong file is the user's setting, named.
  if (auto ca = tls::check_mqtt_client_tls(c.tls, "tls ca file"); !ca.ok()) {
    const Error& e = ca.error();
    return bad_setting(e.field, e.value.empty() ? "(none)" : e.value, " " + e.message);
  }
  const std::string probe = c.id_prefix + std::string(std::max<std::size_t>(c.id_width, 1), '0');
  if (!protocol::is_valid_meter_id(probe)) {
    return bad_setting("id prefix", "'" + c.id_prefix + "'", " does not make valid meter ids");
  }
  return {};
}

struct Fleet::Impl {
  FleetShared shared;
  std::unique_ptr<FleetJournal> journal;
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<Slot*> slot_by_index;
  std::vector<Shard*> shard_by_index;
  bool started = false;
  bool stopped = false;
};

Expected<std::unique_ptr<Fleet>> Fleet::create(const FleetConfig& config_in) {
  std::call_once(mosquitto_init_once, [] { mosquitto_lib_init(); });
  FleetConfig config = config_in;
  if (auto valid = validate(config); !valid.ok()) return std::move(valid).error();
  if (config.thieves.seed == 0 || config.thieves.seed == 1) config.thieves.seed = config.seed;
  std::unique_ptr<Fleet> fleet(new Fleet());
  fleet->ids_ = fleet_meter_ids(config);
  const auto& ids = fleet->ids_;

  // Credentials: every meter's own login, or the gateway's.
  if (config.transport == Transport::kPerMeter) {
    for (const std::string& id : ids) {
      if (!config.credentials.find(id)) {
        return Error::not_found("credentials: no login for meter " + id +
                                " (provision the meters, or use the gateway transport)");
      }
    }
    const uint64_t limit = raise_fd_limit();
    if (config.meters + kSpareDescriptors > limit) {
      return Error::unavailable("per-meter transport needs a socket per meter: " + std::to_string(config.meters) +
                                " meters but this process may open only " + std::to_string(limit) +
                                " files; use the gateway transport for this many meters");
    }
  } else if (config.credentials.gateways.empty()) {
    return Error::not_found("credentials: the gateway transport needs a gateway login (a line with meter_id '*')");
  } else if (config.credentials.gateways.size() < static_cast<std::size_t>(config.gateway_connections)) {
    // The broker binds each client id to its user, so two connections of one user would keep kicking each other.
    return bad_setting("gateway connections", std::to_string(config.gateway_connections),
                       " need as many gateway users (credentials lines with meter_id '*'), but there are " +
                           std::to_string(config.credentials.gateways.size()) +
                           " (provision them with --gateway-user NAME --gateway-logins N)");
  }
  if (config.queue_capacity == 0)
    config.queue_capacity = std::max<std::size_t>(1, 7ull * 86400ull * 1000ull / config.period_ms);

  auto impl = std::make_unique<Impl>();
  impl->shared.config = config;
  impl->shared.nodes = config.broker_nodes;
  if (impl->shared.nodes.empty()) impl->shared.nodes.push_back(BrokerNode{config.broker_host, config.broker_port});
  impl->shared.queue_capacity = config.queue_capacity;
  int64_t start_ms = config.start_ms != 0 ? config.start_ms : system_now_ms();

  if (!config.state_dir.empty()) {
    JournalOptions jo;
    jo.dir = config.state_dir;
    jo.fsync = config.journal_fsync;
    jo.max_unacked_per_meter = config.queue_capacity;
    auto opened = FleetJournal::open(jo, ids);
    if (!opened.ok()) return std::move(opened).error();
    impl->journal = std::move(opened).value();
    impl->shared.journal = impl->journal.get();
    if (impl->journal->discarded_tail_bytes() > 0) {
      spdlog::warn("fleet: state journal had {} bytes of an unfinished record at its end (a crash); discarded",
                   impl->journal->discarded_tail_bytes());
    }
    if (impl->journal->forgotten_meters() > 0) {
      spdlog::warn("fleet: state directory knew {} meter(s) not in this fleet; their state was dropped",
                   impl->journal->forgotten_meters());
    }
    // A meter's clock never goes back: a previous run at --speed above 1 may have left readings
    // stamped ahead of the wall clock, so the virtual clock resumes after the newest of them.
    int64_t newest = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      newest = std::max(newest, impl->journal->loaded(static_cast<uint32_t>(i)).state.last_time_ms);
    }
    if (config.start_ms == 0 && newest + 1000 > start_ms) {
      spdlog::info("fleet: the previous run's clock reached {} ms past now; the virtual clock continues from there",
                   newest + 1000 - start_ms);
      start_ms = newest + 1000;
    }
  }
  impl->shared.clock = std::make_unique<VirtualClock>(start_ms, config.speed);

  const int threads = config.threads;
  for (int k = 0; k < threads; ++k) impl->shards.push_back(std::make_unique<Shard>(impl->shared, k));

  // Gateway links first (meters are placed on their link's shard).
  std::vector<Link*> gateways;
  if (config.transport == Transport::kGateway) {
    for (int g = 0; g < config.gateway_connections; ++g) {
      auto link = std::make_unique<Link>();
      link->per_meter = false;
      link->login = config.credentials.gateways[static_cast<std::size_t>(g)];
      // The broker replaces the client id by the user name; the same here keeps logs and sessions consistent.
      link->client_id = link->login.username;
      link->node = static_cast<std::size_t>(g) % impl->shared.nodes.size();
      gateways.push_back(impl->shards[static_cast<std::size_t>(g % threads)]->add_link(std::move(link)));
    }
  }

  const auto thefts = plan_thefts(config.meters, config.thieves);
  sim::Rng supply_rng(sim::mix_seed(config.seed, 0x5A77));
  impl->slot_by_index.resize(config.meters);
  impl->shard_by_index.resize(config.meters);
  std::size_t resumed_meters = 0, resumed_readings = 0, thieves = 0;
  const double period_s = config.period_ms / 1000.0;
  for (std::size_t i = 0; i < config.meters; ++i) {
    MeterSetup setup;
    setup.index = static_cast<uint32_t>(i);
    setup.id = ids[i];
    setup.model.fidelity = config.fidelity;
    setup.model.seed = sim::mix_seed(config.seed, i + 1);
    setup.model.sample_rate_hz = config.sample_rate_hz;
    setup.model.period_ms = config.period_ms;
    setup.model.supply_vrms = 226.0 + 8.0 * supply_rng.uniform();
    // Meters report at staggered instants across the period (golden-ratio spacing), like a real fleet.
    const double phase = std::fmod(static_cast<double>(i + 1) * 0.6180339887498949, 1.0);
    setup.boot_ms = start_ms + static_cast<int64_t>(std::llround(phase * period_s * 1000.0));
    local_day(setup.boot_ms, &setup.model.start_time_of_day_s, &setup.model.start_day);
    setup.theft = thefts[i];
    if (setup.theft.kind != TheftKind::kNone) ++thieves;
    // A PV house's meter is bidirectional, where a reversed clamp is no tamper and gains nothing:
    // those thieves live in houses without PV.
    setup.model.allow_solar = config.solar;
    if (setup.theft.kind == TheftKind::kReversedCt) setup.model.allow_solar = false;

    auto slot = std::make_unique<Slot>();
    slot->meter = std::make_unique<VirtualMeter>(setup);
    slot->topic_reading = protocol::make_topic(setup.id, protocol::TopicKind::kReading);
    slot->topic_event = protocol::make_topic(setup.id, protocol::TopicKind::kEvent);
    slot->topic_ack = protocol::make_topic(setup.id, protocol::TopicKind::kCmdAck);
    slot->topic_status = protocol::make_topic(setup.id, protocol::TopicKind::kStatus);

    if (impl->journal) {
      const PersistedMeter& saved = impl->journal->loaded(static_cast<uint32_t>(i));
      if (saved.known) {
        std::vector<protocol::MeterEvent> events;
        slot->meter->resume(saved.state, &events);
        for (const auto& e : events)
          slot->control.push_back(PendingControl{protocol::TopicKind::kEvent, protocol::encode(e), 0});
        for (const QueuedReading& q : saved.unacked) slot->queue.push_back(PendingReading{q, 0, 0, false, true});
        ++resumed_meters;
        resumed_readings += saved.unacked.size();
      }
    }

    if (const BrokerLogin* login = config.credentials.find(setup.id)) slot->command_key = login->command_key;

    Shard* shard = nullptr;
    if (config.transport == Transport::kGateway) {
      Link* link = gateways[i % gateways.size()];
      shard = link->shard;
      slot->link = link;
    } else {
      shard = impl->shards[i % static_cast<std::size_t>(threads)].get();
      auto link = std::make_unique<Link>();
      link->per_meter = true;
      link->login = *config.credentials.find(setup.id);
      link->client_id = setup.id;
      link->node = i % impl->shared.nodes.size();
      slot->link = shard->add_link(std::move(link));
    }
    Slot* placed = shard->add_slot(std::move(slot));
    placed->link->slots.push_back(placed);
    if (!placed->link->per_meter) placed->link->by_id.emplace(placed->meter->id(), placed);
    impl->slot_by_index[i] = placed;
    impl->shard_by_index[i] = shard;
  }
  impl->shared.counters.readings_resumed = resumed_readings;
  impl->shared.counters.readings_queued = resumed_readings;
  impl->shared.counters.links = config.transport == Transport::kGateway ? gateways.size() : config.meters;
  if (impl->journal) {
    for (auto& shard : impl->shards) {
      Shard* s = shard.get();
      impl->journal->add_durable_listener([s] { s->wake(); });
    }
  }
  spdlog::info(
      "fleet: {} meters ({} thieves), period {} s, fidelity {}{}, transport {} ({} connection(s)), {} thread(s), speed "
      "x{}",
      config.meters, thieves, period_s, fidelity_name(config.fidelity),
      config.fidelity == Fidelity::kSamples ? " at " + std::to_string(config.sample_rate_hz) + " Hz" : "",
      transport_name(config.transport), impl->shared.counters.links.load(), threads, config.speed);
  if (impl->journal) {
    spdlog::info("fleet: state in {}: resumed {} meter(s), {} unacknowledged reading(s) to send",
                 config.state_dir.string(), resumed_meters, resumed_readings);
  }
  fleet->config_ = config;
  fleet->impl_ = std::move(impl);
  return fleet;
}

Fleet::~Fleet() { stop(); }

void Fleet::set_observer(FleetObserver* observer) { impl_->shared.observer = observer; }

void Fleet::start() {
  if (impl_->started) return;
  impl_->started = true;
  // Virtual time starts now, not at create(): building a large fleet and its journal takes time,
  // and meters should not begin with a backlog.
  impl_->shared.clock = std::make_unique<VirtualClock>(impl_->shared.clock->start_ms(), config_.speed);
  for (auto& s : impl_->shards) s->start();
}

void Fleet::stop(int drain_ms) {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  // All shards drain at the same time.
  std::vector<std::thread> stoppers;
  for (auto& s : impl_->shards) stoppers.emplace_back([&s, drain_ms] { s->stop(drain_ms); });
  for (auto& t : stoppers) t.join();
  if (impl_->journal) impl_->journal->close();
}

void Fleet::pause_measuring(bool paused) { impl_->shared.paused = paused; }

bool Fleet::stop_meter(const std::string& meter_id) {
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i] != meter_id) continue;
    Slot* slot = impl_->slot_by_index[i];
    Shard* shard = impl_->shard_by_index[i];
    shard->post([shard, slot] { shard->power_off(slot); });
    return true;
  }
  return false;
}

FleetStats Fleet::stats() const {
  const auto& c = impl_->shared.counters;
  FleetStats s;
  s.readings_made = c.readings_made.load();
  s.readings_published = c.readings_published.load();
  s.readings_acked = c.readings_acked.load();
  s.readings_replayed = c.readings_replayed.load();
  s.readings_dropped = c.readings_dropped.load();
  s.readings_unrouted = c.readings_unrouted.load();
  s.readings_refused = c.readings_refused.load();
  s.readings_queued = c.readings_queued.load();
  s.readings_resumed = c.readings_resumed.load();
  s.events_published = c.events_published.load();
  s.commands_received = c.commands_received.load();
  s.commands_rejected = c.commands_rejected.load();
  s.connects = c.connects.load();
  s.connection_losses = c.connection_losses.load();
  s.links = c.links.load();
  s.links_connected = c.links_connected.load();
  s.meters_stopped = c.meters_stopped.load();
  return s;
}

std::optional<MeterSnapshot> Fleet::snapshot(const std::string& meter_id) const {
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i] != meter_id) continue;
    Slot* slot = impl_->slot_by_index[i];
    auto promise = std::make_shared<std::promise<MeterSnapshot>>();
    auto future = promise->get_future();
    impl_->shard_by_index[i]->post([slot, promise] {
      MeterSnapshot s;
      const VirtualMeter& m = *slot->meter;
      s.id = m.id();
      s.relay_closed = m.relay_closed();
      s.period_ms = m.period_ms();
      s.next_seq = m.next_seq();
      s.import_uwh = m.model().import_uwh();
      s.export_uwh = m.model().export_uwh();
      s.true_import_wh = m.model().true_import_wh();
      s.queued = slot->queue.size();
      s.connected = slot->link && slot->link->state == Link::State::kConnected && !slot->comms_cut;
      s.stopped = slot->stopped;
      s.theft = m.theft();
      s.theft_active = m.theft_active();
      s.household = m.model().describe();
      promise->set_value(std::move(s));
    });
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return std::nullopt;
    return future.get();
  }
  return std::nullopt;
}

std::vector<uint64_t> Fleet::next_seqs() const {
  std::vector<uint64_t> out(ids_.size(), 0);
  std::vector<std::future<void>> done;
  for (auto& shard : impl_->shards) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    Shard* s = shard.get();
    s->post([s, &out, promise] {
      for (const auto& slot : s->slots()) out[slot->meter->index()] = slot->meter->next_seq();
      promise->set_value();
    });
  }
  for (auto& f : done) f.wait();
  return out;
}

int64_t Fleet::now_ms() const { return impl_->shared.clock->now_ms(); }

}  // namespace wattguard::fleet
