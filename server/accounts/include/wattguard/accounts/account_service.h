// Consumer accounts on the server: which tariff bills a meter, its running bill and closed bills, consumer
// notices, and prepaid credit (charges as energy is used, top-ups, the payment webhook, fair automatic
// disconnection and reconnection). A thread brings every account up to date every billing.update_interval_s.
// Thread-safe: the API calls it from its I/O threads while the update thread runs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/accounts/account_store.h"
#include "wattguard/accounts/accounts_config.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/expected.h"
#include "wattguard/billing/bill.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::accounts {

// Sends a relay command through the server's audited command path; the command's id.
using RelayCommand =
    std::function<Expected<std::string>(const std::string& meter, protocol::CommandKind kind, const std::string& why)>;
// An amount with its 80 % interval.
struct Quantiles {
  int64_t p10 = 0;
  int64_t p50 = 0;
  int64_t p90 = 0;
};
// Expected energy (µWh) of a meter in [from_s, to_s) from its own history; nullopt when it cannot say (too
// little history). Without an interval (a plain average), p10 = p50 = p90.
using UseProjection = std::function<std::optional<Quantiles>(const std::string& meter, int64_t from_s, int64_t to_s)>;

struct AccountServiceDeps {
  storage::ReadingStore* store = nullptr;
  AccountStore* accounts = nullptr;
  BillingConfig billing;
  PrepaidConfig prepaid;
  Clock now_ms;
  RelayCommand relay;            // optional: without it prepaid meters are never switched
  UseProjection projection;      // optional (tests): default = the forecast, else the mean of the last 7 days
  std::function<void()> notice;  // called after new notices were stored (wakes their sender); optional
};

// Where a cycle's use stands against the tariff's slabs.
struct SlabPosition {
  size_t index = 0;                  // the slab the use is in
  int64_t from_uwh = 0;              // its lower bound
  std::optional<int64_t> to_uwh;     // its upper bound (none: the last slab)
  int64_t rate = 0;                  // its rate (1e-4 minor unit per kWh)
  std::optional<int64_t> next_rate;  // the next slab's rate
};

struct PrepaidStatus {
  int64_t balance_minor = 0;
  int64_t low_credit_minor = 0;
  int64_t emergency_credit_minor = 0;
  bool disconnected = false;  // by the server, for lack of credit
  std::optional<CreditDisconnect> disconnect;
};

// Everything the meter page shows about the cycle in progress.
struct CycleStatus {
  billing::Bill running;
  SlabPosition slab;
  // Energy used so far, cumulative at the end of each local day of the cycle (the last point: now).
  std::vector<std::pair<int64_t, int64_t>> used;  // (end_s, µWh)
  // Where the cycle is heading, when the meter's history says: the whole cycle's use and bill, and the
  // cumulative use at the end of each remaining local day.
  struct Projection {
    bool banded = false;  // p10/p90 are a real interval (a forecast), not copies of an average
    Quantiles end_uwh;
    Quantiles end_minor;
    std::vector<std::pair<int64_t, Quantiles>> daily;  // (end_s, cumulative µWh)
  };
  std::optional<Projection> projection;
  AccountSettings settings;
  std::optional<PrepaidStatus> prepaid;
};

// A bill as the API serves it.
struct BillDocument {
  std::string json;            // billing::bill_to_json (a closed cycle's as issued)
  std::string csv;             // billing::bill_to_csv
  bool issued = false;         // the cycle is closed and this is its stored bill; else a running bill
  std::string tariff_version;  // "domestic@2024-04-01"
};

// What a payment or top-up did.
struct CreditOutcome {
  LedgerEntry entry;
  bool duplicate = false;  // the provider's payment id was already in the ledger: nothing changed
  int64_t balance_minor = 0;
};

class AccountService {
 public:
  explicit AccountService(AccountServiceDeps deps);
  ~AccountService();  // stop()
  AccountService(const AccountService&) = delete;
  AccountService& operator=(const AccountService&) = delete;

  void start();
  void stop();

  const BillingConfig& config() const { return deps_.billing; }
  bool enabled() const { return deps_.billing.enabled(); }

  // The tariff id billing the meter: its own, else its area's, else the default. kNotFound when none applies.
  Expected<std::string> tariff_of(const storage::MeterInfo& meter, const AccountSettings& settings) const;

  // `with_projection` false leaves out the forecast (a summary over many meters, a ledger page), which reads
  // eight weeks of the meter's rollups.
  Expected<CycleStatus> cycle_status(const std::string& meter_id, bool with_projection = true);

  // A meter with its settings and the tariff version in force now (no readings are read).
  struct Account {
    storage::MeterInfo meter;
    AccountSettings settings;
    const billing::Tariff* tariff = nullptr;  // into config().tariffs
  };
  Expected<Account> account(const std::string& meter_id);
  // The bill of the cycle holding month "YYYY-MM": the stored one once the cycle is closed (stored on first
  // use), else the running bill. kInvalidInput naming "cycle" for a malformed month or one in the future.
  Expected<BillDocument> bill(const std::string& meter_id, const std::string& month);
  // Stored bills (newest first) as JSON lines.
  Expected<std::vector<StoredBill>> bills(const std::string& meter_id);

  // Settings changes are checked here: an unknown tariff, a bad budget or URL is kInvalidInput naming the field.
  Expected<AccountSettings> save_settings(AccountSettings settings);

  Expected<PrepaidStatus> prepaid_status(const std::string& meter_id);
  // An operator's top-up (positive amount in major units, decimal text). kInvalidInput for a bad amount or a
  // meter that is not prepaid.
  Expected<CreditOutcome> top_up(const std::string& meter_id, const std::string& amount, const std::string& reference,
                                 const std::string& actor);
  // The payment provider's webhook: signature, freshness, body, then one ledger entry per payment id.
  // Errors: kPermissionDenied (signature), kInvalidInput (body, amount, currency), kNotFound (meter),
  // kUnavailable (no secret configured).
  Expected<CreditOutcome> apply_payment(const std::string& body, const std::string& signature_header);

  // One pass over every account: close finished cycles, charge prepaid meters, decide notices, switch relays.
  void update_all();
  // The same for one meter (after a top-up, in tests).
  Expected<void> update_meter(const storage::MeterInfo& meter);

 private:
  Expected<const billing::Tariff*> version_for(const storage::MeterInfo& meter, const AccountSettings& settings,
                                               int64_t instant_s) const;
  Expected<billing::Bill> compute(const storage::MeterInfo& meter, const billing::Tariff& tariff,
                                  const billing::Cycle& cycle, int64_t until_s);
  // update_meter's work, for the given settings. REQUIRES: update_mutex_ held.
  Expected<void> update_locked(const storage::MeterInfo& meter, const AccountSettings& settings);
  Expected<void> close_cycle(const storage::MeterInfo& meter, const AccountSettings& settings,
                             const billing::Cycle& cycle);
  // Charges the ledger up to the bill's total; `settle` (the cycle's bill is issued): to the last minor unit.
  Expected<void> charge_prepaid(const storage::MeterInfo& meter, const billing::Bill& bill, bool settle);
  Expected<void> enforce_credit(const storage::MeterInfo& meter, const AccountSettings& settings,
                                const billing::Tariff& tariff);
  void add_notice(const storage::MeterInfo& meter, const AccountSettings& settings, Notice notice);
  // The meter's expected use from now to each local midnight left in the cycle (the last: the cycle's end):
  // the forecast when its history allows, else the mean of the last 7 days (no band), else nullopt.
  struct RestOfCycle {
    bool banded = false;
    std::vector<std::pair<int64_t, Quantiles>> by_end;  // (end_s, µWh from now)
  };
  std::optional<RestOfCycle> rest_of_cycle(const std::string& meter, const billing::Tariff& tariff,
                                           const billing::Cycle& cycle, int64_t now);
  std::optional<Quantiles> mean_use(const std::string& meter, int64_t from_s, int64_t to_s);
  // The projection of a cycle whose energy so far is `energy` (bills of the projected quantiles).
  std::optional<CycleStatus::Projection> project(const std::string& meter, const billing::Tariff& tariff,
                                                 const billing::Cycle& cycle, const billing::MeterEnergy& energy,
                                                 int64_t used_uwh, int64_t now);
  Expected<int64_t> money_minor(const std::string& text, const billing::Tariff& tariff, const char* field) const;
  void loop();

  AccountServiceDeps deps_;
  // The closed cycle each meter was last settled for (issued, or found without readings), so a pass does not
  // read a whole month of rollups again for every meter. Guarded by update_mutex_.
  std::map<std::string, std::string> settled_cycle_;
  std::map<std::string, int64_t> last_charge_ms_;  // per meter; guarded by update_mutex_
  struct CachedRest {
    int64_t computed_s = 0;
    std::string cycle;
    RestOfCycle rest;
  };
  std::mutex cache_mutex_;
  std::map<std::string, CachedRest> rest_cache_;  // per meter, guarded by cache_mutex_
  // One account is updated at a time, so a charge, a top-up and a relay decision never interleave.
  std::mutex update_mutex_;
  std::mutex thread_mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wattguard::accounts
