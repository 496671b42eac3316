// Private directories and whole-file replacement with mkstemp, fchmod, fsync and rename.
#include "wattguard/base/file_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace wattguard {
namespace fs = std::filesystem;

namespace {

Error io_error(const fs::path& path, const std::string& what) {
  return Error::io("cannot " + what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

Expected<void> create_private_directories(const fs::path& dir) {
  if (dir.empty()) return {};
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  if (auto parent = create_private_directories(dir.parent_path()); !parent.ok()) return parent;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return io_error(dir, "create the directory");
  return {};
}

Expected<fs::path> write_private_temp(const fs::path& path, std::string_view text, mode_t mode) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (auto made = create_private_directories(dir); !made.ok()) return std::move(made).error();
  std::string name = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  std::vector<char> pattern(name.begin(), name.end());
  pattern.push_back('\0');
  const int fd = ::mkstemp(pattern.data());  // O_EXCL, mode 0600, a random name
  if (fd < 0) return io_error(path, "create a temporary file for");
  const fs::path tmp(pattern.data());
  const auto fail = [&](const std::string& what) {
    Error e = io_error(path, what);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("set the mode of");
  if (::fsync(fd) != 0) return fail("flush");
  if (::close(fd) != 0) {
    Error e = io_error(path, "close");
    ::unlink(tmp.c_str());
    return e;
  }
  return tmp;
}

Expected<void> write_file_atomically(const fs::path& path, std::string_view text, mode_t mode) {
  auto tmp = write_private_temp(path, text, mode);
  if (!tmp.ok()) return std::move(tmp).error();
  if (::rename(tmp->c_str(), path.c_str()) != 0) {
    Error e = io_error(path, "replace");
    ::unlink(tmp->c_str());
    return e;
  }
  return {};
}

}  // namespace wattguard
