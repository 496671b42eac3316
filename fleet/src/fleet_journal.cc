// The fleet journal: binary records with a length and CRC, group-committed by a writer thread.
#include "wattguard/fleet/fleet_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_map>

namespace wattguard::fleet {
namespace {

constexpr char kMagic[8] = {'W', 'G', 'F', 'L', 'E', 'E', 'T', '1'};
constexpr std::size_t kMaxRecordBytes = 1024;

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  return kTable;
}

// CRC-32 (IEEE), as zlib computes it.
uint32_t crc32(const char* data, std::size_t size) {
  const auto& t = crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (std::size_t k = 0; k < size; ++k) c = t[(c ^ static_cast<uint8_t>(data[k])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

template <class T>
void put(std::string* out, T value) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out->append(buf, sizeof(T));
}

// Reads fixed-size values from a record; ok() turns false on overrun.
class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), n_(n) {}
  template <class T>
  T get() {
    T v{};
    if (pos_ + sizeof(T) > n_) {
      bad_ = true;
      return v;
    }
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string(std::size_t len) {
    if (pos_ + len > n_) {
      bad_ = true;
      return {};
    }
    std::string s(p_ + pos_, len);
    pos_ += len;
    return s;
  }
  bool ok() const { return !bad_ && pos_ == n_; }

 private:
  const char* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  bool bad_ = false;
};

Expected<void> write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io(std::string("write: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// What failed, with errno's words: "<what>: <strerror>".
Error io_error(const std::string& what) { return Error::io(what + ": " + std::strerror(errno)); }

void remove_seq(std::deque<QueuedReading>* q, uint64_t seq) {
  // Acknowledgements come almost always for the oldest reading.
  for (auto it = q->begin(); it != q->end(); ++it) {
    if (it->seq == seq) {
      q->erase(it);
      return;
    }
    if (it->seq > seq) return;
  }
}

}  // namespace

FleetJournal::FleetJournal(const JournalOptions& options) : options_(options) {}

Expected<std::unique_ptr<FleetJournal>> FleetJournal::open(const JournalOptions& options,
                                                           const std::vector<std::string>& meter_ids) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Error::io("state directory " + options.dir.string() + ": " + ec.message());
  std::unique_ptr<FleetJournal> j(new FleetJournal(options));
  j->ids_ = meter_ids;

  const std::filesystem::path lock_path = options.dir / "fleet.lock";
  j->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (j->lock_fd_ < 0) return io_error(lock_path.string());
  if (::flock(j->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Error::unavailable("state directory " + options.dir.string() + " is in use by another fleet process");
  }

  // Load whatever a previous run left.
  const std::filesystem::path path = options.dir / kFileName;
  std::unordered_map<std::string, PersistedMeter> by_id;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.size() < sizeof(kMagic) || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
      return Error::corruption(path.string() + ": not a wattguard fleet journal (bad magic)");
    }
    std::unordered_map<uint32_t, std::string> file_ids;
    std::size_t pos = sizeof(kMagic);
    while (pos < data.size()) {
      uint32_t len = 0;
      if (pos + 4 > data.size()) break;
      std::memcpy(&len, data.data() + pos, 4);
      if (len < 1 || len > kMaxRecordBytes || pos + 4 + len + 4 > data.size()) break;
      const char* body = data.data() + pos + 4;
      uint32_t crc = 0;
      std::memcpy(&crc, body + len, 4);
      if (crc != crc32(body, len)) break;
      pos += 4 + len + 4;
      const auto type = static_cast<OpType>(body[0]);
      Reader r(body + 1, len - 1);
      const auto index = r.get<uint32_t>();
      if (type == OpType::kMeter) {
        const auto id_len = r.get<uint16_t>();
        std::string id = r.get_string(id_len);
        PersistedMeter m;
        m.known = true;
        m.state.next_seq = r.get<uint64_t>();
        m.state.import_uwh = r.get<uint64_t>();
        m.state.export_uwh = r.get<uint64_t>();
        m.state.relay_closed = r.get<uint8_t>() != 0;
        m.state.period_ms = r.get<uint32_t>();
        m.state.last_time_ms = r.get<int64_t>();
        m.dropped = r.get<uint64_t>();
        if (!r.ok()) break;
        file_ids[index] = id;
        by_id[id] = std::move(m);
        continue;
      }
      auto it = file_ids.find(index);
      if (it == file_ids.end()) break;  // a record for an undeclared meter: corrupt from here
      PersistedMeter& m = by_id[it->second];
      if (type == OpType::kReading) {
        const auto q = r.get<QueuedReading>();
        if (!r.ok()) break;
        m.unacked.push_back(q);
        if (m.unacked.size() > options.max_unacked_per_meter) {
          m.unacked.pop_front();
          ++m.dropped;
        }
        m.state.next_seq = std::max(m.state.next_seq, q.seq + 1);
        m.state.import_uwh = q.import_uwh;
        m.state.export_uwh = q.export_uwh;
        m.state.last_time_ms = q.time_ms;
      } else if (type == OpType::kAck || type == OpType::kDrop) {
        const auto seq = r.get<uint64_t>();
        if (!r.ok()) break;
        remove_seq(&m.unacked, seq);
        if (type == OpType::kDrop) ++m.dropped;
      } else if (type == OpType::kSettings) {
        m.state.relay_closed = r.get<uint8_t>() != 0;
        m.state.period_ms = r.get<uint32_t>();
        if (!r.ok()) break;
      } else {
        break;
      }
    }
    // A crash can leave half a record at the end; everything before it is intact.
    j->discarded_tail_ = data.size() - pos;
  }

  j->loaded_.resize(meter_ids.size());
  std::size_t matched = 0;
  for (std::size_t k = 0; k < meter_ids.size(); ++k) {
    auto it = by_id.find(meter_ids[k]);
    if (it == by_id.end()) continue;
    j->loaded_[k] = std::move(it->second);
    ++matched;
  }
  j->forgotten_ = by_id.size() - matched;
  j->mirror_ = j->loaded_;

  if (auto compacted = j->compact(); !compacted.ok()) return std::move(compacted).error();
  j->writer_ = std::thread([raw = j.get()] { raw->writer_loop(); });
  return j;
}

FleetJournal::~FleetJournal() {
  close();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void FleetJournal::encode(const Op& op, std::string* out) const {
  std::string body;
  body.push_back(static_cast<char>(op.type));
  put<uint32_t>(&body, op.meter);
  switch (op.type) {
    case OpType::kMeter: {
      const PersistedMeter& m = mirror_[op.meter];
      const std::string& id = ids_[op.meter];
      put<uint16_t>(&body, static_cast<uint16_t>(id.size()));
      body += id;
      put<uint64_t>(&body, m.state.next_seq);
      put<uint64_t>(&body, m.state.import_uwh);
      put<uint64_t>(&body, m.state.export_uwh);
      put<uint8_t>(&body, m.state.relay_closed ? 1 : 0);
      put<uint32_t>(&body, m.state.period_ms);
      put<int64_t>(&body, m.state.last_time_ms);
      put<uint64_t>(&body, m.dropped);
      break;
    }
    case OpType::kReading: put<QueuedReading>(&body, op.reading); break;
    case OpType::kAck:
    case OpType::kDrop: put<uint64_t>(&body, op.seq); break;
    case OpType::kSettings:
      put<uint8_t>(&body, op.relay_closed ? 1 : 0);
      put<uint32_t>(&body, op.period_ms);
      break;
  }
  put<uint32_t>(out, static_cast<uint32_t>(body.size()));
  out->append(body);
  put<uint32_t>(out, crc32(body.data(), body.size()));
}

void FleetJournal::apply(const Op& op) {
  PersistedMeter& m = mirror_[op.meter];
  m.known = true;
  switch (op.type) {
    case OpType::kMeter: break;
    case OpType::kReading:
      m.unacked.push_back(op.reading);
      if (m.unacked.size() > options_.max_unacked_per_meter) m.unacked.pop_front();
      m.state.next_seq = std::max(m.state.next_seq, op.reading.seq + 1);
      m.state.import_uwh = op.reading.import_uwh;
      m.state.export_uwh = op.reading.export_uwh;
      m.state.last_time_ms = op.reading.time_ms;
      break;
    case OpType::kAck: remove_seq(&m.unacked, op.seq); break;
    case OpType::kDrop:
      remove_seq(&m.unacked, op.seq);
      ++m.dropped;
      break;
    case OpType::kSettings:
      m.state.relay_closed = op.relay_closed;
      m.state.period_ms = op.period_ms;
      break;
  }
}

Expected<void> FleetJournal::compact() {
  const std::filesystem::path path = options_.dir / kFileName;
  const std::filesystem::path tmp = options_.dir / (std::string(kFileName) + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(tmp.string());
  std::string out(kMagic, sizeof(kMagic));
  for (uint32_t k = 0; k < mirror_.size(); ++k) {
    Op meter{OpType::kMeter, k};
    encode(meter, &out);
    for (const QueuedReading& q : mirror_[k].unacked) {
      Op reading{OpType::kReading, k};
      reading.reading = q;
      encode(reading, &out);
    }
  }
  Expected<void> written = write_all(fd, out);
  if (written.ok() && options_.fsync && ::fdatasync(fd) != 0) written = io_error("fsync");
  ::close(fd);
  if (!written.ok()) return written;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename " + tmp.string());
  if (options_.fsync) {
    const int dir_fd = ::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return io_error(path.string());
  file_bytes_ = out.size();
  ++stats_.compactions;
  return {};
}

uint64_t FleetJournal::push(const Op& op) {
  std::lock_guard lock(mutex_);
  pending_.push_back(op);
  const uint64_t lsn = next_lsn_++;
  if (pending_.size() >= 4096) wake_.notify_one();
  return lsn;
}

uint64_t FleetJournal::append_reading(uint32_t meter, const QueuedReading& reading) {
  Op op{OpType::kReading, meter};
  op.reading = reading;
  return push(op);
}

void FleetJournal::append_ack(uint32_t meter, uint64_t seq) {
  Op op{OpType::kAck, meter};
  op.seq = seq;
  push(op);
}

void FleetJournal::append_drop(uint32_t meter, uint64_t seq) {
  Op op{OpType::kDrop, meter};
  op.seq = seq;
  push(op);
}

void FleetJournal::append_settings(uint32_t meter, bool relay_closed, uint32_t period_ms) {
  Op op{OpType::kSettings, meter};
  op.relay_closed = relay_closed;
  op.period_ms = period_ms;
  push(op);
}

void FleetJournal::add_durable_listener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

Expected<void> FleetJournal::commit(std::vector<Op>& ops) {
  std::string out;
  out.reserve(ops.size() * 90);
  for (const Op& op : ops) encode(op, &out);
  if (auto written = write_all(fd_, out); !written.ok()) return written;
  if (options_.fsync && ::fdatasync(fd_) != 0) return io_error("fsync");
  file_bytes_ += out.size();
  for (const Op& op : ops) apply(op);
  std::lock_guard lock(mutex_);
  stats_.commits += 1;
  stats_.records += ops.size();
  stats_.bytes += out.size();
  return {};
}

void FleetJournal::writer_loop() {
  std::vector<Op> batch;
  for (;;) {
    uint64_t last_lsn = 0;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(options_.commit_interval_ms),
                     [&] { return stopping_ || pending_.size() >= 4096; });
      batch.swap(pending_);
      last_lsn = next_lsn_ - 1;
      stopping = stopping_;
    }
    if (!batch.empty()) {
      // A failed write (disk full...) is retried with the next batch; nothing is published meanwhile.
      if (auto committed = commit(batch); committed.ok()) {
        durable_lsn_.store(last_lsn, std::memory_order_release);
        batch.clear();
        std::vector<std::function<void()>> listeners;
        {
          std::lock_guard lock(mutex_);
          listeners = listeners_;
          stats_.last_error.clear();
        }
        for (auto& l : listeners) l();
      } else {
        std::lock_guard lock(mutex_);
        stats_.last_error = committed.error().message;
        pending_.insert(pending_.begin(), batch.begin(), batch.end());
        batch.clear();
        if (stopping) return;
        continue;
      }
    }
    if (file_bytes_ > options_.compact_bytes) {
      if (auto compacted = compact(); !compacted.ok()) {
        std::lock_guard lock(mutex_);
        stats_.last_error = compacted.error().message;
      }
    }
    if (stopping) {
      std::lock_guard lock(mutex_);
      if (pending_.empty()) return;
    }
  }
}

void FleetJournal::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) {
    (void)compact();  // best effort at shutdown: the appended log is as good, only longer
    ::close(fd_);
    fd_ = -1;
  }
}

FleetJournal::Stats FleetJournal::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace wattguard::fleet
