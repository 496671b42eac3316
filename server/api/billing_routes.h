// The money routes of the API (docs/api.md "Bills, tariffs and prepaid credit"): tariffs, a meter's cycle so far
// and billing settings, its bills as JSON or CSV, notices, the prepaid ledger and top-ups, the payment
// provider's webhook (public, HMAC-signed), and the operators' per-area summary. Consumers see their own meters
// and may set their budget, contacts and opt-outs; tariff, prepaid and protection are an admin's to change.
#pragma once

#include <string>

#include "server/api/api_context.h"
#include "server/api/api_router.h"
#include "wattguard/accounts/account_service.h"
#include "wattguard/accounts/account_store.h"

namespace wattguard::api {

class BillingRoutes {
 public:
  explicit BillingRoutes(ApiContext& context) : context_(context) {}
  void add_to(ApiRouter& router);

 private:
  HttpResponse tariffs();
  HttpResponse status(const Caller& caller, const std::string& id);
  HttpResponse update_settings(const HttpRequest& req, const Caller& caller, const std::string& id);
  HttpResponse bills(const Caller& caller, const std::string& id);
  HttpResponse bill(const Caller& caller, const std::string& id, const std::string& cycle, const RequestTarget& t);
  HttpResponse notices(const Caller& caller, const std::string& id);
  HttpResponse ledger(const Caller& caller, const std::string& id);
  HttpResponse top_up(const HttpRequest& req, const Caller& caller, const std::string& id);
  HttpResponse payment_webhook(const HttpRequest& req);
  HttpResponse summary(const Caller& caller, const RequestTarget& t);
  // The account service, or nullptr when no tariff is configured.
  accounts::AccountService* service() const;

  ApiContext& context_;
};

}  // namespace wattguard::api
