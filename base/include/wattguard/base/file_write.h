// Replacing a file whole and privately: passwords, keys, credentials and anything a reader must never see half
// written. Thread safety: free function; concurrent writers of one path each leave a whole file (the last wins).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "wattguard/base/expected.h"

namespace wattguard {

// Creates `dir` and any missing parents with mode 0700 (a data directory, a key's home): what exists is left
// as it is. Errors: kIoError naming the directory.
Expected<void> create_private_directories(const std::filesystem::path& dir);

// Writes `text` to a new file of unpredictable name beside `path`, created with `mode` from the start and
// flushed to disk, and returns its name, for a caller that renames it into place later (several files that
// change together). Creates missing parent directories (0700). Errors: kIoError naming the path.
Expected<std::filesystem::path> write_private_temp(const std::filesystem::path& path, std::string_view text,
                                                   mode_t mode = 0600);

// Writes `text` to `path` through a temporary file of unpredictable name in the same directory, created with
// `mode` from the start (never briefly readable by others), flushed to disk, then renamed over `path`.
// Creates missing parent directories (0700). Errors: kIoError naming the path and the system's reason.
Expected<void> write_file_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode = 0600);

}  // namespace wattguard
