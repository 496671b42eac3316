// The server's master key for signed commands, kept in the data directory: made once, private (0600), and
// read by every later start and by `wattguard meters provision`, which hands each meter its derived key.
// Thread safety: free functions; two processes making the key at once agree on one (the first to link wins).
#pragma once

#include <filesystem>

#include "wattguard/base/expected.h"
#include "wattguard/protocol/command_signature.h"

namespace wattguard::ingest {

inline constexpr const char* kCommandKeyFileName = "command.key";

// The key in `path` (64 hex digits and a newline), made from libsodium's random source when the file does not
// exist. Errors: kIoError when it cannot be read or written, kInvalidInput (source = path) when it holds
// something else: never silently replaced, since every provisioned meter holds keys derived from it.
Expected<protocol::CommandKey> load_or_create_command_key(const std::filesystem::path& path);

}  // namespace wattguard::ingest
