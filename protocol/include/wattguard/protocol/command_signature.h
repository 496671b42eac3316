// Signed commands: a command from the head-end carries an HMAC-SHA256 made with a key only that meter and the
// server know, and a nonce larger than any the meter accepted before. Someone who can publish on the meter's
// command topic (a stolen login, a plaintext network) can neither forge a relay_off nor replay a captured one.
//
// The signed text (what firmware must rebuild byte for byte, docs/protocol.md "Signed commands"):
//   "wattguard-cmd-v1\n" id "\n" meter "\n" kind "\n" period_s "\n" time_ms "\n" expires_ms "\n" nonce
// with period_s "" when absent and the integers in decimal. The meter's key is HMAC-SHA256(master key,
// "wattguard-command-key-v1\n" meter id): the server keeps one master key, provisioning hands each meter its own.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::protocol {

inline constexpr std::size_t kCommandKeyBytes = 32;
using CommandKey = std::array<uint8_t, kCommandKeyBytes>;

std::string command_signing_text(const Command& command);
// The command's MAC with `key`, as 64 lowercase hex digits.
std::string command_mac(const Command& command, const CommandKey& key);
// Sets `command.nonce` and `command.mac`.
void sign_command(Command& command, const CommandKey& key, uint64_t nonce);

// What a meter concludes of a command it received.
enum class SignatureCheck : uint8_t {
  kValid,
  kUnsigned,  // no mac: refused by a meter that has a key
  kForged,    // the mac does not match (wrong key, or a field changed on the way)
  kReplayed,  // nonce not above the last one accepted
  kNoExpiry,  // signed commands must expire (a captured one would otherwise stay good until the next nonce)
};
const char* signature_check_name(SignatureCheck check);  // "valid", "unsigned", "forged", "replayed", "no_expiry"

// Checks `command` against `key` and the last nonce the meter accepted (0 before the first). The comparison of
// MACs takes the same time whatever they hold. Expiry itself is the meter's usual check of expires_ms.
SignatureCheck check_command_signature(const Command& command, const CommandKey& key, uint64_t last_nonce);

// The key of one meter from the server's master key.
CommandKey derive_command_key(const CommandKey& master, std::string_view meter_id);
// A new random key (the server's master key).
CommandKey random_command_key();

std::string command_key_to_hex(const CommandKey& key);  // 64 lowercase hex digits
// Errors: kInvalidInput (field "command_key") unless exactly 64 hex digits.
Expected<CommandKey> command_key_from_hex(std::string_view hex);

}  // namespace wattguard::protocol
