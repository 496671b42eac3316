// The payment provider's webhook: a JSON body signed with HMAC-SHA256 under a shared secret. The signature
// covers a timestamp and the body ("t=<unix>,v1=<hex>" over "<unix>.<body>"), so a captured call cannot be
// replayed after the tolerance, and within it the payment id makes a repeat harmless (docs/billing.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"

namespace wattguard::accounts {

// The header that carries the signature.
inline constexpr const char* kPaymentSignatureHeader = "x-wattguard-signature";

struct SignedPayment {
  std::string payment_id;  // the provider's id: 1 to 128 printable ASCII characters
  std::string meter;
  std::string amount;    // decimal text in major units, as sent ("250.00")
  std::string currency;  // ISO 4217
  int64_t signed_at_s = 0;
};

// Checks the signature (constant-time) and the timestamp, then reads the body. Errors: kPermissionDenied for a
// missing, malformed or wrong signature or a timestamp outside now +- tolerance (reason "bad_signature" or
// "stale"), kInvalidInput naming the field for a body that is not the documented JSON.
Expected<SignedPayment> verify_payment(std::string_view body, std::string_view signature_header,
                                       std::string_view secret, int64_t now_s, int tolerance_s);

// "t=<signed_at_s>,v1=<hex HMAC-SHA256(secret, "<signed_at_s>.<body>")>": what a provider sends (tests, docs).
std::string sign_payment(std::string_view body, std::string_view secret, int64_t signed_at_s);

}  // namespace wattguard::accounts
