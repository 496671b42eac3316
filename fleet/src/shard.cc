// The shard event loop: virtual-time measuring, store-and-forward queues, and libmosquitto clients
// driven by mosquitto_loop_read/write/misc from one epoll, without a thread per connection.
#include "shard.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "wattguard/base/clock.h"
#include "wattguard/fleet/fleet_journal.h"
#include "wattguard/fleet/virtual_clock.h"
#include "wattguard/protocol/codec.h"

namespace wattguard::fleet {
namespace {

constexpr int kTickMs = 20;
constexpr int kMiscIntervalMs = 1000;
// How long a link holds back after the broker said a message of its had no subscriber (before jitter).
constexpr int kUnroutedRetryMs = 2000;
constexpr int kConnectTimeoutMs = 15000;
constexpr std::size_t kMaxControlPerMeter = 1000;

}  // namespace

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// From the link's address and attempt, so thousands of links do not all retry in the same tick.
double jitter(const void* p, int attempt) {
  uint64_t x =
      reinterpret_cast<uintptr_t>(p) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(attempt) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  return 0.7 + 0.6 * static_cast<double>(x % 10000) / 10000.0;
}

Shard::Shard(FleetShared& fleet, int index) : fleet_(fleet), index_(index) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

Shard::~Shard() {
  stop(0);
  for (auto& link : links_) {
    if (link->mosq) mosquitto_destroy(link->mosq);
    link->mosq = nullptr;
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Slot* Shard::add_slot(std::unique_ptr<Slot> slot) {
  slots_.push_back(std::move(slot));
  Slot* s = slots_.back().get();
  s->due_ms = s->meter->next_due_ms();
  due_.push({s->due_ms, s});
  if (!s->queue.empty() || !s->control.empty()) send_list_.push_back(s), s->in_send_list = true;
  return s;
}

Link* Shard::add_link(std::unique_ptr<Link> link) {
  link->shard = this;
  links_.push_back(std::move(link));
  return links_.back().get();
}

void Shard::start() {
  running_ = true;
  last_budget_ms_ = steady_ms();
  thread_ = std::thread([this] { run(); });
}

void Shard::stop(int drain_ms) {
  if (!thread_.joinable()) return;
  drain_ms_ = drain_ms;
  stop_requested_ = true;
  wake();
  thread_.join();
  running_ = false;
}

void Shard::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void Shard::post(std::function<void()> task) {
  if (!running_) {
    task();
    return;
  }
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  wake();
}

void Shard::run_posted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& t : tasks) t();
}

void Shard::touch(Link* link) {
  if (link->touched) return;
  link->touched = true;
  touched_.push_back(link);
}

void Shard::update_masks() {
  for (Link* link : touched_) {
    link->touched = false;
    if (!link->mosq || link->fd < 0) continue;
    const uint32_t want = EPOLLIN | (mosquitto_want_write(link->mosq) ? EPOLLOUT : 0u);
    if (want == link->mask) continue;
    epoll_event ev{};
    ev.events = want;
    ev.data.ptr = link;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, link->fd, &ev) == 0) link->mask = want;
  }
  touched_.clear();
}

void Shard::mark_send(Slot* slot) {
  if (slot->in_send_list) return;
  slot->in_send_list = true;
  send_list_.push_back(slot);
}

// ---- measuring -------------------------------------------------------------------------------

void Shard::tick(int64_t now_ms) {
  while (!due_.empty() && due_.top().first <= now_ms) {
    auto [due, slot] = due_.top();
    due_.pop();
    if (due != slot->due_ms || slot->stopped) continue;  // rescheduled, or powered off
    scratch_readings_.clear();
    scratch_events_.clear();
    slot->meter->advance(now_ms, &scratch_readings_, &scratch_events_);
    take_outputs(slot, scratch_readings_, scratch_events_);
    if (slot->meter->comms_cut() && !slot->comms_cut) cut_comms(slot);
    slot->due_ms = slot->meter->next_due_ms();
    due_.push({slot->due_ms, slot});
  }
}

void Shard::take_outputs(Slot* slot, std::vector<QueuedReading>& readings, std::vector<protocol::MeterEvent>& events) {
  const bool connected = slot->link && slot->link->state == Link::State::kConnected && !slot->comms_cut;
  for (const QueuedReading& r : readings) {
    const uint64_t lsn = fleet_.journal ? fleet_.journal->append_reading(slot->meter->index(), r) : 0;
    enqueue_reading(slot, r, lsn, !connected);
    fleet_.counters.readings_made.fetch_add(1, std::memory_order_relaxed);
  }
  for (const protocol::MeterEvent& e : events) enqueue_control(slot, protocol::TopicKind::kEvent, protocol::encode(e));
}

void Shard::enqueue_reading(Slot* slot, const QueuedReading& reading, uint64_t lsn, bool late) {
  if (slot->queue.size() >= fleet_.queue_capacity) {
    // Store-and-forward is bounded: the oldest reading goes, and is counted.
    PendingReading& old = slot->queue.front();
    if (old.mid != 0 && slot->link) {
      slot->link->mids.erase(old.mid);
      --slot->inflight;
    }
    if (fleet_.journal) fleet_.journal->append_drop(slot->meter->index(), old.reading.seq);
    slot->queue.pop_front();
    fleet_.counters.readings_dropped.fetch_add(1, std::memory_order_relaxed);
    fleet_.counters.readings_queued.fetch_sub(1, std::memory_order_relaxed);
  }
  slot->queue.push_back(PendingReading{reading, lsn, 0, false, late});
  fleet_.counters.readings_queued.fetch_add(1, std::memory_order_relaxed);
  mark_send(slot);
}

void Shard::enqueue_control(Slot* slot, protocol::TopicKind kind, std::string payload) {
  if (slot->control.size() >= kMaxControlPerMeter) {
    PendingControl& old = slot->control.front();
    if (old.mid != 0 && slot->link) slot->link->mids.erase(old.mid);
    slot->control.pop_front();
  }
  slot->control.push_back(PendingControl{kind, std::move(payload), 0});
  mark_send(slot);
}

// ---- sending ---------------------------------------------------------------------------------

void Shard::try_send(Slot* slot) {
  Link* link = slot->link;
  if (!link || link->state != Link::State::kConnected || !link->mosq || slot->comms_cut) return;
  if (link->unrouted_until_ms != 0) return;  // sent again when the hold ends (run())
  touch(link);
  for (PendingControl& c : slot->control) {
    if (c.mid != 0) continue;
    const std::string& topic = c.kind == protocol::TopicKind::kEvent ? slot->topic_event : slot->topic_ack;
    int mid = 0;
    const int rc = mosquitto_publish(link->mosq, &mid, topic.c_str(), static_cast<int>(c.payload.size()),
                                     c.payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) {
      if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) link->lost = true;
      return;
    }
    c.mid = mid;
    link->mids[mid] = Link::MidRef{slot, false};
    if (c.kind == protocol::TopicKind::kEvent) fleet_.counters.events_published.fetch_add(1, std::memory_order_relaxed);
  }
  const uint64_t durable = fleet_.journal ? fleet_.journal->durable_lsn() : UINT64_MAX;
  const auto window = static_cast<std::size_t>(fleet_.config.inflight_per_meter);
  for (PendingReading& p : slot->queue) {
    if (slot->inflight >= window) break;
    if (p.mid != 0 || p.acked) continue;
    if (p.lsn > durable) {
      // Not on disk yet: sent when the journal says so (and nothing after it goes first).
      awaiting_durable_.push_back(slot);
      break;
    }
    const std::string payload = protocol::encode(to_protocol(slot->meter->id(), p.reading, p.late));
    int mid = 0;
    const int rc = mosquitto_publish(link->mosq, &mid, slot->topic_reading.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) {
      if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) link->lost = true;
      return;
    }
    p.mid = mid;
    link->mids[mid] = Link::MidRef{slot, true};
    ++slot->inflight;
    fleet_.counters.readings_published.fetch_add(1, std::memory_order_relaxed);
    if (p.late) fleet_.counters.readings_replayed.fetch_add(1, std::memory_order_relaxed);
    if (fleet_.observer) fleet_.observer->on_reading_published(slot->meter->index(), p.reading.seq, p.late);
  }
}

void Shard::publish_status(Link* link, Slot* slot, bool online) {
  if (!link->mosq) return;
  std::string payload;
  if (online) {
    payload = protocol::encode(slot->meter->online_status(fleet_.clock->now_ms()));
  } else {
    protocol::StatusMessage s;
    s.meter_id = slot->meter->id();
    s.online = false;
    s.time_ms = fleet_.clock->now_ms();
    s.period_s = slot->meter->period_ms() / 1000;
    payload = protocol::encode(s);
  }
  mosquitto_publish(link->mosq, nullptr, slot->topic_status.c_str(), static_cast<int>(payload.size()), payload.data(),
                    1, true);
  touch(link);
}

void Shard::on_publish(Link* link, int mid, int reason_code) {
  auto it = link->mids.find(mid);
  if (it == link->mids.end()) return;  // a status message
  const Link::MidRef ref = it->second;
  link->mids.erase(it);
  Slot* slot = ref.slot;
  // 0x10: the broker holds no subscription for it, so it went nowhere: keep it and send it again once the server
  // is back. Every other code below 0x80 is a success; from 0x80 on the broker refused it (not authorised, quota,
  // packet too large), and sending it again would be refused again.
  const bool unrouted = reason_code == MQTT_RC_NO_MATCHING_SUBSCRIBERS;
  const bool refused = reason_code >= 0x80;
  if (unrouted) hold_unrouted(link);
  if (!ref.reading) {
    for (auto c = slot->control.begin(); c != slot->control.end(); ++c) {
      if (c->mid != mid) continue;
      if (unrouted) {
        c->mid = 0;
      } else {
        if (refused) log_refused(slot, "an event or command ack", reason_code);
        slot->control.erase(c);
      }
      break;
    }
    return;
  }
  for (PendingReading& p : slot->queue) {
    if (p.mid == mid) {
      p.mid = 0;
      --slot->inflight;
      if (unrouted) {
        p.late = true;
        fleet_.counters.readings_unrouted.fetch_add(1, std::memory_order_relaxed);
      } else {
        p.acked = true;
        if (refused) {
          log_refused(slot, "a reading", reason_code);
          fleet_.counters.readings_refused.fetch_add(1, std::memory_order_relaxed);
        }
      }
      break;
    }
  }
  // Readings leave the queue in order, so the journal's view stays a prefix-free tail.
  while (!slot->queue.empty() && slot->queue.front().acked) {
    const uint64_t seq = slot->queue.front().reading.seq;
    if (fleet_.journal) fleet_.journal->append_ack(slot->meter->index(), seq);
    if (fleet_.observer) fleet_.observer->on_reading_acked(slot->meter->index(), seq);
    slot->queue.pop_front();
    fleet_.counters.readings_acked.fetch_add(1, std::memory_order_relaxed);
    fleet_.counters.readings_queued.fetch_sub(1, std::memory_order_relaxed);
  }
  mark_send(slot);
}

void Shard::hold_unrouted(Link* link) {
  if (link->unrouted_until_ms != 0) return;
  const int64_t now = steady_ms();
  link->unrouted_until_ms = now + static_cast<int64_t>(kUnroutedRetryMs * jitter(link, static_cast<int>(now & 0xffff)));
  unrouted_links_.push_back(link);
  if (now - last_unrouted_log_ms_ > 5000) {
    last_unrouted_log_ms_ = now;
    spdlog::warn("fleet: the broker has no subscriber for our messages (server not subscribed); holding them");
  }
}

void Shard::log_refused(const Slot* slot, const char* what, int reason_code) {
  const int64_t now = steady_ms();
  if (now - last_refused_log_ms_ < 5000) return;
  last_refused_log_ms_ = now;
  spdlog::warn("fleet: the broker refused {} of meter {}: {} (reason {}); dropped", what, slot->meter->id(),
               mosquitto_reason_string(reason_code), reason_code);
}

void Shard::refuse_command(Slot* slot, Link* link, const std::string& id, const std::string& why) {
  if (!protocol::is_valid_meter_id(id)) return;  // an id the ack could not carry
  protocol::CommandAck ack;
  ack.id = id;
  ack.meter_id = slot->meter->id();
  ack.ok = false;
  ack.message = why.substr(0, 256);
  ack.relay = slot->meter->relay_closed() ? protocol::RelayState::kOn : protocol::RelayState::kOff;
  ack.period_s = slot->meter->period_ms() / 1000;
  ack.time_ms = fleet_.clock->now_ms();
  enqueue_control(slot, protocol::TopicKind::kCmdAck, protocol::encode(ack));
  touch(link);
}

void Shard::on_message(Link* link, const mosquitto_message* msg) {
  if (!msg || !msg->topic) return;
  const auto parsed = protocol::parse_topic(msg->topic);
  if (!parsed || parsed->kind != protocol::TopicKind::kCmd) return;
  Slot* slot = nullptr;
  if (link->per_meter) {
    if (!link->slots.empty() && link->slots.front()->meter->id() == parsed->meter_id) slot = link->slots.front();
  } else {
    auto it = link->by_id.find(parsed->meter_id);
    if (it != link->by_id.end()) slot = it->second;
  }
  if (!slot || slot->stopped || slot->comms_cut) return;  // another gateway's meter, or powered off
  fleet_.counters.commands_received.fetch_add(1, std::memory_order_relaxed);
  protocol::DecodeContext ctx;
  ctx.now_ms = system_now_ms();
  ctx.topic_meter_id = parsed->meter_id;
  const std::string_view payload(static_cast<const char*>(msg->payload), static_cast<std::size_t>(msg->payloadlen));
  auto decoded = protocol::decode_command(payload, ctx);
  if (!decoded.ok()) {
    fleet_.counters.commands_rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("fleet: meter {} refused a command: {}", parsed->meter_id, protocol::describe(decoded.error()));
    // If the command at least names itself, say no to it, so the server need not wait for a timeout.
    const auto json = nlohmann::json::parse(payload, nullptr, false);
    if (json.is_object() && json.contains("id") && json["id"].is_string()) {
      refuse_command(slot, link, json["id"].get<std::string>(), protocol::describe(decoded.error()));
    }
    return;
  }
  const protocol::Command& cmd = decoded.value();
  if (slot->command_key) {
    const auto check = protocol::check_command_signature(cmd, *slot->command_key, slot->last_nonce);
    if (check != protocol::SignatureCheck::kValid) {
      fleet_.counters.commands_rejected.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("fleet: meter {} refused command {} ({}): signature {}", parsed->meter_id, cmd.id,
                   protocol::command_kind_name(cmd.kind), protocol::signature_check_name(check));
      refuse_command(slot, link, cmd.id, std::string("signature ") + protocol::signature_check_name(check));
      return;
    }
    slot->last_nonce = cmd.nonce;
  }
  scratch_events_.clear();
  const uint32_t old_period = slot->meter->period_ms();
  auto outcome = slot->meter->execute(cmd, fleet_.clock->now_ms(), system_now_ms(), &scratch_events_);
  spdlog::info("fleet: meter {} {} command {} ({}): {}", slot->meter->id(), outcome.ack.ok ? "obeyed" : "refused",
               cmd.id, protocol::command_kind_name(cmd.kind), outcome.ack.message);
  for (const auto& e : scratch_events_) enqueue_control(slot, protocol::TopicKind::kEvent, protocol::encode(e));
  enqueue_control(slot, protocol::TopicKind::kCmdAck, protocol::encode(outcome.ack));
  if (outcome.settings_changed) {
    if (fleet_.journal) {
      fleet_.journal->append_settings(slot->meter->index(), slot->meter->relay_closed(), slot->meter->period_ms());
    }
    if (slot->meter->period_ms() != old_period) {
      slot->due_ms = slot->meter->next_due_ms();
      due_.push({slot->due_ms, slot});
      publish_status(link, slot, true);
    }
  }
  touch(link);
}

// ---- the loop --------------------------------------------------------------------------------

bool Shard::all_queues_empty() const {
  for (const auto& slot : slots_) {
    if (slot->comms_cut || slot->stopped) continue;  // nothing will ever leave these
    if (!slot->queue.empty()) return false;
  }
  return true;
}

void Shard::run() {
  epoll_event events[256];
  bool draining = false;
  int64_t drain_deadline = 0;
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 256, kTickMs);
    const int64_t now = steady_ms();
    for (int k = 0; k < n; ++k) {
      Link* link = static_cast<Link*>(events[k].data.ptr);
      if (!link) {
        uint64_t v = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &v, sizeof(v));
        continue;
      }
      if (!link->mosq) continue;
      if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (mosquitto_loop_read(link->mosq, 1) != MOSQ_ERR_SUCCESS) link->lost = true;
      }
      if (!link->lost && link->mosq && (events[k].events & EPOLLOUT)) {
        if (mosquitto_loop_write(link->mosq, 1) != MOSQ_ERR_SUCCESS) link->lost = true;
      }
      touch(link);
    }
    run_posted();

    if (stop_requested_ && !draining) {
      draining = true;
      drain_deadline = now + drain_ms_.load();
    }
    if (!draining && !fleet_.paused.load(std::memory_order_relaxed)) tick(fleet_.clock->now_ms());

    // Readings the journal has made durable since the last round.
    if (fleet_.journal) {
      const uint64_t durable = fleet_.journal->durable_lsn();
      if (durable != seen_durable_) {
        seen_durable_ = durable;
        std::vector<Slot*> waiting;
        waiting.swap(awaiting_durable_);
        for (Slot* s : waiting) mark_send(s);
      }
    }
    // Links whose hold after an unrouted message has ended send again.
    if (!unrouted_links_.empty()) {
      std::erase_if(unrouted_links_, [&](Link* link) {
        if (link->unrouted_until_ms != 0 && link->unrouted_until_ms > now) return false;
        link->unrouted_until_ms = 0;
        for (Slot* slot : link->slots) mark_send(slot);
        return true;
      });
    }
    std::vector<Slot*> to_send;
    to_send.swap(send_list_);
    for (Slot* s : to_send) {
      s->in_send_list = false;
      try_send(s);
    }

    // (Re)connect idle links at a bounded pace.
    connect_budget_ =
        std::min<double>(connect_budget_ + (now - last_budget_ms_) * fleet_.config.connects_per_second / 1000.0,
                         std::max(1, fleet_.config.connects_per_second / 10));
    last_budget_ms_ = now;
    {
      for (auto& lp : links_) {
        if (connect_budget_ < 1) break;
        Link* link = lp.get();
        if (link->state != Link::State::kIdle || link->retry_at_ms > now) continue;
        bool wanted = false;
        for (Slot* s : link->slots) wanted = wanted || (!s->stopped && !s->comms_cut);
        if (!wanted) continue;
        connect_budget_ -= 1;
        connect(link, now);
        touch(link);
      }
    }

    if (now - last_misc_ms_ >= kMiscIntervalMs) {
      last_misc_ms_ = now;
      for (auto& lp : links_) {
        Link* link = lp.get();
        if (!link->mosq) continue;
        // A connect that takes too long, or a keep-alive failure on a live link (loop_misc runs only when the
        // first test fails, as before).
        const bool connect_timed_out =
            link->state == Link::State::kConnecting && now - link->connect_started_ms > kConnectTimeoutMs;
        if (connect_timed_out ||
            (mosquitto_loop_misc(link->mosq) != MOSQ_ERR_SUCCESS && link->state == Link::State::kConnected)) {
          link->lost = true;
        }
        touch(link);
      }
      if (losses_since_log_ > 0 && now - last_loss_log_ms_ > 5000) {
        spdlog::warn("fleet: shard {}: {} connection(s) lost; reconnecting with back-off", index_, losses_since_log_);
        losses_since_log_ = 0;
        last_loss_log_ms_ = now;
      }
    }

    for (Link* link : touched_) {
      if (link->lost) handle_lost(link, now);
    }
    update_masks();

    if (draining && (all_queues_empty() || now >= drain_deadline)) {
      drain_and_disconnect(now + 1500);
      return;
    }
  }
}

void Shard::drain_and_disconnect(int64_t deadline) {
  // Say offline (retained) and disconnect cleanly, so the broker does not send the last will and
  // the server sees a deliberate stop.
  for (auto& lp : links_) {
    Link* link = lp.get();
    if (link->state != Link::State::kConnected || !link->mosq) continue;
    for (Slot* slot : link->slots) {
      if (!slot->stopped && !slot->comms_cut) publish_status(link, slot, false);
    }
    mosquitto_disconnect(link->mosq);
  }
  // Push the last packets out.
  for (;;) {
    bool pending = false;
    for (auto& lp : links_) {
      Link* link = lp.get();
      if (!link->mosq || link->fd < 0) continue;
      if (mosquitto_want_write(link->mosq)) {
        if (mosquitto_loop_write(link->mosq, 1) == MOSQ_ERR_SUCCESS && mosquitto_want_write(link->mosq)) pending = true;
      }
    }
    if (!pending || steady_ms() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& lp : links_) {
    Link* link = lp.get();
    const bool was_connected = link->state == Link::State::kConnected;
    drop_connection(link, false);
    (void)was_connected;
    if (link->state != Link::State::kDead) link->state = Link::State::kIdle;
  }
}

}  // namespace wattguard::fleet
