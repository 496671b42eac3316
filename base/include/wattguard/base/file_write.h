// Replacing a file whole and privately: passwords, keys, credentials and anything a reader must never see half
// written. Thread safety: free function; concurrent writers of one path each leave a whole file (the last wins).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "wattguard/base/expected.h"

namespace wattguard {

// Writes `text` to `path` through a temporary file of unpredictable name in the same directory, created with
// `mode` from the start (never briefly readable by others), flushed to disk, then renamed over `path`.
// Creates missing parent directories (0700). Errors: kIoError naming the path and the system's reason.
Expected<void> write_file_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode = 0600);

}  // namespace wattguard
