// Signature and body of the payment webhook.
#include "wattguard/accounts/payment_webhook.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "wattguard/base/sodium.h"

namespace wattguard::accounts {
namespace {

constexpr std::size_t kMaxPaymentIdLength = 128;

std::string hmac_hex(std::string_view message, std::string_view secret) {
  ensure_sodium();
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

Error bad_signature(const std::string& message) { return Error::permission_denied(message).because("bad_signature"); }

// "t=123,v1=abc" -> its two parts; false when either is missing.
bool split_signature(std::string_view header, std::string* t, std::string* v1) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.rfind("t=", 0) == 0) *t = std::string(item.substr(2));
    if (item.rfind("v1=", 0) == 0) *v1 = std::string(item.substr(3));
  }
  return !t->empty() && !v1->empty();
}

Expected<std::string> required_string(const nlohmann::json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Error::invalid(name, it == body.end() ? "" : it->dump(), std::string(name) + " must be a non-empty string");
  }
  return it->get<std::string>();
}

}  // namespace

std::string sign_payment(std::string_view body, std::string_view secret, int64_t signed_at_s) {
  const std::string t = std::to_string(signed_at_s);
  return "t=" + t + ",v1=" + hmac_hex(t + "." + std::string(body), secret);
}

Expected<SignedPayment> verify_payment(std::string_view body, std::string_view signature_header,
                                       std::string_view secret, int64_t now_s, int tolerance_s) {
  std::string t;
  std::string v1;
  if (!split_signature(signature_header, &t, &v1)) {
    return bad_signature("missing or malformed X-Wattguard-Signature (expected t=<unix time>,v1=<hex HMAC-SHA256>)");
  }
  int64_t signed_at = 0;
  for (char ch : t) {
    if (ch < '0' || ch > '9' || t.size() > 12) return bad_signature("the signature's t= is not a Unix time");
    signed_at = signed_at * 10 + (ch - '0');
  }
  const std::string expected = hmac_hex(t + "." + std::string(body), secret);
  // Constant time, so the comparison does not tell an attacker how many leading characters were right.
  if (v1.size() != expected.size() || sodium_memcmp(v1.data(), expected.data(), expected.size()) != 0) {
    return bad_signature("the signature does not match the body");
  }
  if (signed_at < now_s - tolerance_s || signed_at > now_s + tolerance_s) {
    return Error::permission_denied("the signature's time is more than " + std::to_string(tolerance_s) +
                                    " s from the server's clock (a replay, or a wrong clock)")
        .because("stale");
  }
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return Error::invalid("body", "", "the body must be a JSON object");
  SignedPayment p;
  p.signed_at_s = signed_at;
  auto id = required_string(json, "payment_id");
  if (!id.ok()) return std::move(id).error();
  p.payment_id = std::move(id).value();
  if (p.payment_id.size() > kMaxPaymentIdLength) {
    return Error::invalid("payment_id", p.payment_id.substr(0, 32) + "...", "longer than 128 characters");
  }
  for (unsigned char ch : p.payment_id) {
    if (ch < 0x21 || ch > 0x7e) return Error::invalid("payment_id", p.payment_id, "must be printable ASCII");
  }
  auto meter = required_string(json, "meter");
  if (!meter.ok()) return std::move(meter).error();
  p.meter = std::move(meter).value();
  auto currency = required_string(json, "currency");
  if (!currency.ok()) return std::move(currency).error();
  p.currency = std::move(currency).value();
  const auto amount = json.find("amount");
  if (amount == json.end() || !(amount->is_string() || amount->is_number())) {
    return Error::invalid("amount", amount == json.end() ? "" : amount->dump(),
                          "amount must be a decimal string (\"250.00\") or a number");
  }
  // A number keeps the text it was written with as closely as JSON allows: its shortest round-trip form.
  p.amount = amount->is_string() ? amount->get<std::string>() : amount->dump();
  return p;
}

}  // namespace wattguard::accounts
