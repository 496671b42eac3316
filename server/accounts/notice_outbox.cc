// Notices through the notifiers.
#include "wattguard/accounts/notice_outbox.h"

#include <spdlog/spdlog.h>

namespace wattguard::accounts {

std::vector<notify::OutboxItem> NoticeOutbox::due(int64_t now_ms, std::size_t limit) {
  notice_of_.clear();
  std::vector<notify::OutboxItem> out;
  auto rows = store_.due_notice_deliveries(now_ms, limit);
  if (!rows.ok()) {
    spdlog::warn("notices: cannot read the outbox: {}", rows.error().message);
    return out;
  }
  for (const NoticeDelivery& d : rows.value()) {
    notice_of_[d.id] = d.notice_id;
    out.push_back({d.id, "notice " + std::to_string(d.notice_id), d.notifier, "consumer", d.address, d.attempts});
  }
  return out;
}

std::optional<notify::Message> NoticeOutbox::message(const notify::OutboxItem& item) {
  const auto it = notice_of_.find(item.id);
  if (it == notice_of_.end()) return std::nullopt;
  auto notice = store_.notice(it->second);
  if (!notice.ok() || !notice->has_value()) return std::nullopt;
  const Notice& n = **notice;
  notify::Message m;
  m.alert = {{"notice", n.id},           {"meter", n.meter}, {"cycle", n.cycle},       {"kind", n.kind},
             {"threshold", n.threshold}, {"text", n.text},   {"time_ms", n.created_ms}};
  m.fields = {{"id", std::to_string(n.id)}, {"meter", n.meter}, {"kind", n.kind}, {"cycle", n.cycle}, {"text", n.text}};
  return m;
}

bool NoticeOutbox::mark_delivered(int64_t id, int64_t t_ms) {
  auto marked = store_.mark_notice_delivered(id, t_ms);
  if (!marked.ok()) spdlog::warn("notices: delivery {}: {}", id, marked.error().message);
  return marked.ok() && marked.value();
}

void NoticeOutbox::mark_failed(int64_t id, const std::string& error, int64_t next_attempt_ms, bool give_up) {
  if (auto marked = store_.mark_notice_failed(id, error, next_attempt_ms, give_up); !marked.ok()) {
    spdlog::warn("notices: delivery {}: {}", id, marked.error().message);
  }
}

}  // namespace wattguard::accounts
