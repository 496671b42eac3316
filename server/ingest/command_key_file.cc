// The command master key file: created with link(2) so that it appears whole and only once.
#include "wattguard/ingest/command_key_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "wattguard/base/file_write.h"

namespace wattguard::ingest {
namespace fs = std::filesystem;

namespace {

Expected<protocol::CommandKey> read_key(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read " + path.string());
  std::string line;
  std::getline(in, line);
  auto key = protocol::command_key_from_hex(line);
  if (!key.ok()) {
    return Error::invalid("", "", "is not a command key (64 hex digits); restore it from a backup").at(path.string());
  }
  return key;
}

}  // namespace

Expected<protocol::CommandKey> load_or_create_command_key(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return read_key(path);
  const std::string text = protocol::command_key_to_hex(protocol::random_command_key()) + "\n";
  auto tmp = write_private_temp(path, text, 0600);
  if (!tmp.ok()) return std::move(tmp).error();
  // link() fails when the name exists: of two processes making the key at once, both end up reading the first.
  const int linked = ::link(tmp->c_str(), path.c_str());
  const int link_errno = errno;
  fs::remove(*tmp, ec);
  if (linked != 0 && link_errno != EEXIST) {
    return Error::io("cannot create " + path.string() + ": " + std::strerror(link_errno));
  }
  return read_key(path);
}

}  // namespace wattguard::ingest
