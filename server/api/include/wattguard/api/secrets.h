// Random secrets and their hashes (libsodium): API tokens and session ids are high-entropy
// random strings stored only as a BLAKE2b hash; passwords are stored as argon2id strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wattguard::api {

// libsodium argon2id cost levels (ops and memory limits). kMin is for tests only.
enum class PasswordCost { kMin, kInteractive, kModerate, kSensitive };

// "interactive" -> kInteractive, ...; nullopt for an unknown name.
std::optional<PasswordCost> password_cost_from_name(std::string_view name);

// `bytes` random bytes as URL-safe base64 without padding (43 chars for 32 bytes).
std::string random_secret(std::size_t bytes);

// Hex BLAKE2b-256 of a secret: what is stored for tokens and session ids. A fast hash is
// enough because the secret itself has 256 bits of entropy (nothing to brute-force).
std::string hash_secret(std::string_view secret);

// argon2id hash string of a password, or nullopt when libsodium runs out of memory.
std::optional<std::string> hash_password(std::string_view password, PasswordCost cost);

// True when `password` matches `stored_hash`. Costs as much when the user is unknown
// (use dummy_password_hash()) so timing does not reveal whether a name exists.
bool verify_password(const std::string& stored_hash, std::string_view password);

// A fixed hash (of a random password) to verify against when the user name is unknown.
const std::string& dummy_password_hash(PasswordCost cost);

// Compares two equal-length strings in constant time.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace wattguard::api
