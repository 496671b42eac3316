// HMAC-SHA256 command signatures with libsodium.
#include "wattguard/protocol/command_signature.h"

#include <sodium.h>

#include "wattguard/base/sodium.h"

namespace wattguard::protocol {
namespace {

using Mac = std::array<uint8_t, crypto_auth_hmacsha256_BYTES>;

Mac hmac(const CommandKey& key, std::string_view text) {
  ensure_sodium();
  Mac out{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

template <std::size_t kN>
std::string to_hex(const std::array<uint8_t, kN>& bytes) {
  std::string hex(kN * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), kN);
  hex.pop_back();
  return hex;
}

}  // namespace

std::string command_signing_text(const Command& c) {
  std::string text = "wattguard-cmd-v1\n";
  text += c.id + "\n" + c.meter_id + "\n" + std::string(command_kind_name(c.kind)) + "\n";
  text += (c.period_s ? std::to_string(*c.period_s) : std::string()) + "\n";
  text += std::to_string(c.time_ms) + "\n" + std::to_string(c.expires_ms) + "\n" + std::to_string(c.nonce);
  return text;
}

std::string command_mac(const Command& command, const CommandKey& key) {
  return to_hex(hmac(key, command_signing_text(command)));
}

void sign_command(Command& command, const CommandKey& key, uint64_t nonce) {
  command.nonce = nonce;
  command.mac = command_mac(command, key);
}

const char* signature_check_name(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::kValid: return "valid";
    case SignatureCheck::kUnsigned: return "unsigned";
    case SignatureCheck::kForged: return "forged";
    case SignatureCheck::kReplayed: return "replayed";
    case SignatureCheck::kNoExpiry: return "no_expiry";
  }
  return "forged";
}

SignatureCheck check_command_signature(const Command& command, const CommandKey& key, uint64_t last_nonce) {
  if (command.mac.empty()) return SignatureCheck::kUnsigned;
  const std::string expected = command_mac(command, key);
  if (command.mac.size() != expected.size() ||
      sodium_memcmp(command.mac.data(), expected.data(), expected.size()) != 0) {
    return SignatureCheck::kForged;
  }
  if (command.nonce <= last_nonce) return SignatureCheck::kReplayed;
  if (command.expires_ms <= 0) return SignatureCheck::kNoExpiry;
  return SignatureCheck::kValid;
}

CommandKey derive_command_key(const CommandKey& master, std::string_view meter_id) {
  const Mac mac = hmac(master, "wattguard-command-key-v1\n" + std::string(meter_id));
  CommandKey key{};
  std::copy(mac.begin(), mac.end(), key.begin());
  return key;
}

CommandKey random_command_key() {
  ensure_sodium();
  CommandKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string command_key_to_hex(const CommandKey& key) { return to_hex(key); }

Expected<CommandKey> command_key_from_hex(std::string_view hex) {
  CommandKey key{};
  std::size_t length = 0;
  const char* end = nullptr;
  if (hex.size() != kCommandKeyBytes * 2 ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &length, &end) != 0 ||
      length != kCommandKeyBytes || end != hex.data() + hex.size()) {
    return Error::invalid("command_key", std::string(hex.substr(0, 80)), "must be 64 hex digits (32 bytes)");
  }
  return key;
}

}  // namespace wattguard::protocol
