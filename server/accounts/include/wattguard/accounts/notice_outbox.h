// The consumer notices' deliveries as an outbox for notify::OutboxWorker: a webhook receives the notice as
// JSON, an SMS gateway its text (template "{text}").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/accounts/account_store.h"
#include "wattguard/base/clock.h"
#include "wattguard/notify/outbox_worker.h"

namespace wattguard::accounts {

class NoticeOutbox : public notify::Outbox {
 public:
  NoticeOutbox(AccountStore& store, Clock now_ms) : store_(store), now_ms_(std::move(now_ms)) {}
  std::vector<notify::OutboxItem> due(int64_t now_ms, std::size_t limit) override;
  std::optional<notify::Message> message(const notify::OutboxItem& item) override;
  bool mark_delivered(int64_t id, int64_t t_ms) override;
  void mark_failed(int64_t id, const std::string& error, int64_t next_attempt_ms, bool give_up) override;
  int64_t now_ms() const override { return now_ms_(); }

 private:
  AccountStore& store_;
  Clock now_ms_;
  std::map<int64_t, int64_t> notice_of_;  // delivery id -> notice id, of the last due()
};

// The SMS template of notices: the notice's own text.
inline constexpr const char* kNoticeSmsTemplate = "{text}";

}  // namespace wattguard::accounts
