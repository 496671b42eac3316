// The ingest journal (see ingest_journal.h).
#include "server/ingest/ingest_journal.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>
#include <vector>

namespace wattguard::ingest {
namespace {

constexpr uint32_t kMagic = 0x314A4757;  // "WGJ1" little-endian
constexpr std::size_t kHeaderBytes = 4 + 4 + 4 + 8 + 8;
constexpr uint32_t kMaxTopicBytes = 1u << 16;
constexpr uint32_t kMaxPayloadBytes = 1u << 26;
// A segment whose records are all handled is dropped once it holds this much, so that at light load the
// replay after a kill is short rather than a whole segment of readings stored long ago.
constexpr std::size_t kRecycleBytes = std::size_t{64} << 10;
constexpr const char* kSuffix = ".journal";

uint64_t fnv1a(uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t checksum(int64_t received_ms, std::string_view topic, std::string_view payload) {
  uint64_t h = 14695981039346656037ull;
  h = fnv1a(h, &received_ms, sizeof received_ms);
  h = fnv1a(h, topic.data(), topic.size());
  return fnv1a(h, payload.data(), payload.size());
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The records of one segment file, up to the first torn or damaged one.
std::vector<JournalRecord> read_segment(const std::filesystem::path& path, bool* torn) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<JournalRecord> out;
  std::size_t at = 0;
  *torn = false;
  while (at < data.size()) {
    if (data.size() - at < kHeaderBytes) break;
    const char* h = data.data() + at;
    const auto topic_len = get<uint32_t>(h + 4);
    const auto payload_len = get<uint32_t>(h + 8);
    if (get<uint32_t>(h) != kMagic || topic_len > kMaxTopicBytes || payload_len > kMaxPayloadBytes ||
        data.size() - at - kHeaderBytes < std::size_t{topic_len} + payload_len) {
      break;
    }
    JournalRecord r;
    r.received_ms = get<int64_t>(h + 12);
    r.topic.assign(h + kHeaderBytes, topic_len);
    r.payload.assign(h + kHeaderBytes + topic_len, payload_len);
    if (checksum(r.received_ms, r.topic, r.payload) != get<uint64_t>(h + 20)) break;
    out.push_back(std::move(r));
    at += kHeaderBytes + topic_len + payload_len;
  }
  *torn = at < data.size();
  return out;
}

}  // namespace

IngestJournal::IngestJournal(std::filesystem::path dir, std::size_t segment_bytes)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

IngestJournal::~IngestJournal() {
  std::lock_guard lk(mu_);
  close_current_locked();
}

Expected<std::unique_ptr<IngestJournal>> IngestJournal::open(const std::filesystem::path& dir,
                                                             std::size_t segment_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::io("cannot create the ingest journal directory " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  std::unique_ptr<IngestJournal> j(new IngestJournal(dir, segment_bytes));
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(kSuffix)) continue;
    const std::string digits = name.substr(0, name.size() - std::strlen(kSuffix));
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const uint64_t id = std::stoull(digits);
    j->segments_[id] = Segment{0, static_cast<std::size_t>(entry.file_size(ec)), true};
    j->next_id_ = std::max(j->next_id_, id + 1);
  }
  if (ec) return Error::io("cannot list the ingest journal directory " + dir.string() + ": " + ec.message());
  return j;
}

std::filesystem::path IngestJournal::path_of(uint64_t id) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(id));
  return dir_ / (std::string(name) + kSuffix);
}

void IngestJournal::replay(const std::function<void(uint64_t, const JournalRecord&)>& handler) {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lk(mu_);
    for (const auto& [id, seg] : segments_) ids.push_back(id);
  }
  for (uint64_t id : ids) {
    bool torn = false;
    const std::vector<JournalRecord> records = read_segment(path_of(id), &torn);
    if (torn)
      spdlog::warn("ingest journal: {} ends in a torn record (a kill mid-write); replaying what precedes it",
                   path_of(id).string());
    {
      std::lock_guard lk(mu_);
      segments_[id].outstanding += records.size();
      stats_.replayed += records.size();
    }
    if (records.empty()) {
      std::lock_guard lk(mu_);
      forget_if_done_locked(id);
      continue;
    }
    spdlog::info("ingest journal: replaying {} message(s) a previous run received but may not have stored",
                 records.size());
    for (const JournalRecord& r : records) handler(id, r);
  }
}

bool IngestJournal::open_current_locked() {
  if (fd_ >= 0) return true;
  const uint64_t id = next_id_;
  const std::string path = path_of(id).string();
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return false;
  ++next_id_;
  current_ = id;
  segments_[id] = Segment{};
  return true;
}

void IngestJournal::close_current_locked() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  const uint64_t id = current_;
  current_ = 0;
  segments_[id].closed = true;
  forget_if_done_locked(id);
}

void IngestJournal::forget_if_done_locked(uint64_t id) {
  auto it = segments_.find(id);
  if (it == segments_.end() || !it->second.closed || it->second.outstanding > 0) return;
  std::error_code ec;
  std::filesystem::remove(path_of(id), ec);
  if (ec) spdlog::warn("ingest journal: cannot remove {}: {}", path_of(id).string(), ec.message());
  segments_.erase(it);
}

uint64_t IngestJournal::append(int64_t received_ms, std::string_view topic, std::string_view payload) {
  if (topic.size() > kMaxTopicBytes || payload.size() > kMaxPayloadBytes) return 0;
  std::string record;
  record.reserve(kHeaderBytes + topic.size() + payload.size());
  put(record, kMagic);
  put(record, static_cast<uint32_t>(topic.size()));
  put(record, static_cast<uint32_t>(payload.size()));
  put(record, received_ms);
  put(record, checksum(received_ms, topic, payload));
  record.append(topic);
  record.append(payload);

  std::lock_guard lk(mu_);
  if (fd_ >= 0 && segments_[current_].bytes >= segment_bytes_) close_current_locked();
  auto fail = [&](int err) -> uint64_t {
    ++stats_.append_errors;
    const int64_t t =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    if (t - last_error_log_ms_ >= 10'000) {
      last_error_log_ms_ = t;
      spdlog::error("ingest journal: cannot write to {}: {} ({} message(s) unprotected against a kill so far)",
                    dir_.string(), std::strerror(err), stats_.append_errors);
    }
    return 0;
  };
  if (!open_current_locked()) return fail(errno);
  Segment& seg = segments_[current_];
  std::size_t written = 0;
  while (written < record.size()) {
    const ssize_t n = ::write(fd_, record.data() + written, record.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // Cut the partial record off, else every later record of the segment is unreadable; and start a
      // fresh segment next time in case the cut fails too.
      if (::ftruncate(fd_, static_cast<off_t>(seg.bytes)) != 0) {
        spdlog::warn("ingest journal: cannot cut a partial record: {}", std::strerror(errno));
      }
      close_current_locked();
      return fail(err);
    }
    written += static_cast<std::size_t>(n);
  }
  seg.bytes += record.size();
  ++seg.outstanding;
  ++stats_.appended;
  return current_;
}

void IngestJournal::handled(uint64_t segment) {
  if (segment == 0) return;
  std::lock_guard lk(mu_);
  auto it = segments_.find(segment);
  if (it == segments_.end() || it->second.outstanding == 0) return;
  --it->second.outstanding;
  if (it->second.outstanding > 0) return;
  if (segment == current_) {
    if (it->second.bytes >= kRecycleBytes) close_current_locked();
    return;
  }
  forget_if_done_locked(segment);
}

JournalStats IngestJournal::stats() const {
  std::lock_guard lk(mu_);
  JournalStats s = stats_;
  s.segments = segments_.size();
  s.outstanding = 0;
  for (const auto& [id, seg] : segments_) s.outstanding += seg.outstanding;
  return s;
}

}  // namespace wattguard::ingest
