// The alerts' outbox and its sender.
#include "wattguard/alerts/delivery_worker.h"

#include <cstdio>

#include "wattguard/alerts/alert_json.h"

namespace wattguard::alerts {

notify::Message make_message(const Alert& alert, const Delivery& delivery, const std::string& public_url) {
  notify::Message m;
  m.delivery_id = delivery.id;
  m.alert = alert_to_json(alert);
  // The receiver does not need the outbox bookkeeping of every recipient.
  m.alert.erase("deliveries");
  char score[32];
  std::snprintf(score, sizeof score, "%.2f", alert.score);
  std::string url;
  if (!public_url.empty()) {
    url = public_url;
    if (url.back() == '/') url.pop_back();
    url += "/alerts/" + std::to_string(alert.id);
  }
  m.fields = {{"id", std::to_string(alert.id)},       {"kind", alert.kind}, {"meter", alert.meter_id},
              {"transformer", alert.transformer_id},  {"area", alert.area}, {"score", score},
              {"time", iso8601_utc(alert.raised_ms)}, {"url", url},         {"reader", delivery.recipient}};
  return m;
}

namespace {

notify::OutboxOptions outbox_options(const DeliveryOptions& o) {
  return {o.max_attempts, o.retry_base_ms, o.retry_max_ms, o.poll_ms};
}

}  // namespace

std::vector<notify::OutboxItem> AlertOutbox::due(int64_t now_ms, std::size_t limit) {
  pending_.clear();
  std::vector<notify::OutboxItem> out;
  for (Delivery& d : service_.due_deliveries(now_ms, limit)) {
    out.push_back({d.id, "alert " + std::to_string(d.alert_id), d.notifier, d.recipient, d.address, d.attempts});
    pending_[d.id] = std::move(d);
  }
  return out;
}

std::optional<notify::Message> AlertOutbox::message(const notify::OutboxItem& item) {
  const auto it = pending_.find(item.id);
  if (it == pending_.end()) return std::nullopt;
  const auto alert = service_.get(it->second.alert_id);
  if (!alert) return std::nullopt;
  return make_message(*alert, it->second, public_url_);
}

DeliveryWorker::DeliveryWorker(AlertService& service,
                               std::map<std::string, std::shared_ptr<notify::Notifier>> notifiers,
                               const DeliveryOptions& options)
    : outbox_(service, options.public_url), worker_(outbox_, std::move(notifiers), outbox_options(options)) {}

}  // namespace wattguard::alerts
