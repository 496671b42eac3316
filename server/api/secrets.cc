// libsodium wrappers for tokens, session ids and passwords.
#include "wattguard/api/secrets.h"

#include <sodium.h>

#include <array>
#include <mutex>
#include <vector>

#include "wattguard/base/sodium.h"

namespace wattguard::api {
namespace {

struct CostLimits {
  unsigned long long ops;
  std::size_t mem;
};

CostLimits limits(PasswordCost cost) {
  switch (cost) {
    case PasswordCost::kMin: return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    case PasswordCost::kInteractive: return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
    case PasswordCost::kModerate: return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case PasswordCost::kSensitive: return {crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE};
  }
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

}  // namespace

std::optional<PasswordCost> password_cost_from_name(std::string_view name) {
  if (name == "min") return PasswordCost::kMin;
  if (name == "interactive") return PasswordCost::kInteractive;
  if (name == "moderate") return PasswordCost::kModerate;
  if (name == "sensitive") return PasswordCost::kSensitive;
  return std::nullopt;
}

std::string random_secret(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string hash_secret(std::string_view secret) {
  ensure_sodium();
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  // A fixed domain-separation key, so these digests are not plain BLAKE2b of the secret.
  static constexpr unsigned char kKey[] = "wattguard secret hash v1";
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     kKey, sizeof kKey - 1);
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

std::optional<std::string> hash_password(std::string_view password, PasswordCost cost) {
  ensure_sodium();
  const CostLimits l = limits(cost);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), l.ops, l.mem) != 0) return std::nullopt;
  return std::string(out);
}

bool verify_password(const std::string& stored_hash, std::string_view password) {
  ensure_sodium();
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

const std::string& dummy_password_hash(PasswordCost cost) {
  static std::mutex mutex;
  static std::array<std::string, 4> hashes;
  std::lock_guard lock(mutex);
  std::string& h = hashes[static_cast<std::size_t>(cost)];
  if (h.empty()) h = hash_password(random_secret(24), cost).value_or("");
  return h;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  ensure_sodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wattguard::api
