// What the head-end keeps about a consumer account, in the readings' SQLite file: a meter's billing settings,
// the bills of closed cycles (each with the tariff version it was made with), the append-only money ledger of
// prepaid meters, the consumer notices already decided (at most one per meter, cycle, kind and threshold) and
// their delivery outbox. Thread-safe: one connection behind a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/storage/sqlite_db.h"

namespace wattguard::accounts {

// A meter's billing settings. A meter without a row has the defaults.
struct AccountSettings {
  std::string meter;
  std::string tariff;             // its own tariff id; "" = its area's, else the default
  bool prepaid = false;           // charged from a credit balance, disconnected when it runs out
  bool protected_supply = false;  // never disconnected automatically (medical equipment, ...)
  std::string budget_kwh;         // the consumer's budget per cycle as decimal text; "" = none
  std::string budget_money;       // in major units as decimal text; "" = none
  std::string phone;              // the consumer's SMS number for notices; "" = none
  std::string webhook_url;        // the consumer's webhook for notices; "" = none
  std::set<std::string> opt_out;  // notice kinds the consumer does not want
  int64_t updated_ms = 0;
};

struct StoredBill {
  std::string meter;
  std::string cycle;           // "YYYY-MM"
  std::string tariff_version;  // "domestic@2024-04-01"
  std::string currency;
  int64_t total_minor = 0;
  std::string json;  // billing::bill_to_json, without the newline
  std::string csv;   // billing::bill_to_csv
  int64_t created_ms = 0;
};

// Kinds of money movement. Charges are negative, the others positive (an adjustment may be either).
enum class LedgerKind : uint8_t { kCharge, kTopup, kPayment, kAdjustment };
const char* ledger_kind_name(LedgerKind kind);  // "charge", "topup", "payment", "adjustment"

struct LedgerEntry {
  int64_t id = 0;  // store-assigned, ascending
  std::string meter;
  int64_t time_ms = 0;
  LedgerKind kind = LedgerKind::kCharge;
  int64_t amount_minor = 0;
  std::string currency;
  std::string cycle;      // charges: the cycle charged
  std::string reference;  // payments: the provider's payment id (unique); top-ups: the operator's reference
  std::string actor;      // "system", a user name, "provider:<name>"
  std::string note;
};

// A consumer notice: decided once, then delivered through the outbox to the consumer's phone and webhook.
struct Notice {
  int64_t id = 0;
  std::string meter;
  std::string cycle;
  std::string kind;       // "slab_soon", "slab_crossed", "budget", "bill_ready", "low_credit", ...
  std::string threshold;  // what makes it distinct within the cycle: "100" kWh, "80" %, ""
  std::string text;       // the short message
  int64_t created_ms = 0;
};

struct NoticeDelivery {
  int64_t id = 0;
  int64_t notice_id = 0;
  std::string notifier;  // "sms" or "webhook"
  std::string address;
  std::string state;  // "pending", "delivered", "undelivered"
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  std::string last_error;
  int64_t delivered_ms = 0;
};

// A prepaid meter that the server disconnected for lack of credit (so it is the server that reconnects it).
struct CreditDisconnect {
  std::string meter;
  int64_t time_ms = 0;
  std::string command_id;
};

class AccountStore {
 public:
  // Creates the tables if missing. kIoError when the file cannot be opened.
  static Expected<std::unique_ptr<AccountStore>> open(const std::string& path);
  ~AccountStore();
  AccountStore(const AccountStore&) = delete;
  AccountStore& operator=(const AccountStore&) = delete;

  // The meter's settings, or the defaults (meter set, everything else empty) when it has none stored.
  Expected<AccountSettings> settings(const std::string& meter);
  Expected<std::vector<AccountSettings>> all_settings();
  Expected<void> save_settings(const AccountSettings& settings);

  // Stores a closed cycle's bill once: kAlreadyExists when (meter, cycle) is stored (the first one stays).
  Expected<void> add_bill(const StoredBill& bill);
  Expected<std::optional<StoredBill>> bill(const std::string& meter, const std::string& cycle);
  // Newest cycle first.
  Expected<std::vector<StoredBill>> bills(const std::string& meter, std::size_t limit = 120);

  // Appends one entry; its id. A payment whose reference is already in the ledger is refused with
  // kAlreadyExists and the ledger is untouched (payments are idempotent on the provider's id).
  Expected<int64_t> append_ledger(const LedgerEntry& entry);
  // Newest first.
  Expected<std::vector<LedgerEntry>> ledger(const std::string& meter, std::size_t limit = 500);
  Expected<std::optional<LedgerEntry>> payment(const std::string& reference);
  // The sum of every entry of the meter: the balance, always.
  Expected<int64_t> balance_minor(const std::string& meter);
  // The id of the meter's newest top-up or payment; 0 when it has none.
  Expected<int64_t> last_credit_id(const std::string& meter);
  // The sum of the meter's charges for a cycle, as a positive amount.
  Expected<int64_t> charged_minor(const std::string& meter, const std::string& cycle);

  // Records a notice and one pending delivery per (notifier, address) in one transaction. nullopt when the
  // (meter, cycle, kind, threshold) notice exists already: it is never decided twice.
  Expected<std::optional<int64_t>> add_notice(const Notice& notice,
                                              const std::vector<std::pair<std::string, std::string>>& deliveries,
                                              int64_t now_ms);
  Expected<std::vector<Notice>> notices(const std::string& meter, std::size_t limit = 100);
  Expected<std::optional<Notice>> notice(int64_t id);
  Expected<std::vector<NoticeDelivery>> due_notice_deliveries(int64_t now_ms, std::size_t limit);
  Expected<std::vector<NoticeDelivery>> deliveries_of(int64_t notice_id);
  // Only a pending delivery becomes delivered: false when it was not pending (never delivered twice).
  Expected<bool> mark_notice_delivered(int64_t delivery_id, int64_t t_ms);
  Expected<void> mark_notice_failed(int64_t delivery_id, const std::string& error, int64_t next_attempt_ms,
                                    bool give_up);

  Expected<void> set_credit_disconnect(const CreditDisconnect& record);
  Expected<void> clear_credit_disconnect(const std::string& meter);
  Expected<std::optional<CreditDisconnect>> credit_disconnect(const std::string& meter);

 private:
  explicit AccountStore(std::unique_ptr<storage::Db> db) : db_(std::move(db)) {}
  Expected<int64_t> scalar_locked(const char* sql, const std::string& meter, const std::string* cycle);

  std::mutex mutex_;
  std::unique_ptr<storage::Db> db_;
};

}  // namespace wattguard::accounts
