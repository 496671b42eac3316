// The ingest journal: a QoS 1 message the server accepts is written here before the broker receives its
// PUBACK, and forgotten once the writer has handled it, so a server killed in between replays it at start.
//
// Why a journal and not a later PUBACK: libmosquitto 2.0.11 (Debian 12) has no manual acknowledgement; it
// queues the PUBACK and sends it from the network thread after the message callback returns. Writing the
// record inside the callback therefore puts it in the kernel's page cache before the broker forgets the
// message. The write is not fsync'd: that survives the process being killed (the drill, a crash, an OOM kill),
// not a power cut, which the broker's own persistence (autosave) does not survive either.
//
// Layout: segment files `<dir>/<id, 20 digits>.journal`, each a run of records; a segment is deleted once it
// is closed (full, or every record handled) and every record in it has been handled. A torn record at the end
// of a segment (a kill mid-write) ends that segment's replay.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "wattguard/base/expected.h"

namespace wattguard::ingest {

struct JournalRecord {
  int64_t received_ms = 0;
  std::string topic;
  std::string payload;
};

struct JournalStats {
  uint64_t appended = 0;        // records written since open
  uint64_t append_errors = 0;   // records that could not be written (disk full): handled, not journaled
  uint64_t replayed = 0;        // records of a previous run handed to replay()
  std::size_t outstanding = 0;  // records written and not yet handled
  std::size_t segments = 0;     // segment files on disk
};

class IngestJournal {
 public:
  static constexpr std::size_t kDefaultSegmentBytes = std::size_t{4} << 20;

  // Creates `dir` (mode 0700) if needed. Segments of an earlier run are kept for replay().
  static Expected<std::unique_ptr<IngestJournal>> open(const std::filesystem::path& dir,
                                                       std::size_t segment_bytes = kDefaultSegmentBytes);
  ~IngestJournal();
  IngestJournal(const IngestJournal&) = delete;
  IngestJournal& operator=(const IngestJournal&) = delete;

  // The records an earlier run left, oldest first, each with the segment to pass to handled() (or 0 when the
  // handler does not keep it: it is then handled at once). Call once, before append().
  void replay(const std::function<void(uint64_t segment, const JournalRecord&)>& handler);

  // Writes one record; returns its segment, for handled(). 0 when it could not be written (logged, counted):
  // the message is still handled, only not protected against a kill.
  uint64_t append(int64_t received_ms, std::string_view topic, std::string_view payload);

  // One record of `segment` was handled (stored, or refused for good). segment 0 is ignored.
  void handled(uint64_t segment);

  JournalStats stats() const;

 private:
  struct Segment {
    std::size_t outstanding = 0;
    std::size_t bytes = 0;
    bool closed = false;
  };

  IngestJournal(std::filesystem::path dir, std::size_t segment_bytes);
  std::filesystem::path path_of(uint64_t id) const;
  bool open_current_locked();
  void close_current_locked();
  void forget_if_done_locked(uint64_t id);

  const std::filesystem::path dir_;
  const std::size_t segment_bytes_;
  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_;  // guarded by mu_: every segment file on disk
  uint64_t current_ = 0;                  // guarded by mu_: the segment appended to, 0 = none open
  int fd_ = -1;                           // guarded by mu_: of current_
  uint64_t next_id_ = 1;                  // guarded by mu_
  JournalStats stats_;                    // guarded by mu_ (outstanding and segments computed)
  int64_t last_error_log_ms_ = 0;         // guarded by mu_
};

}  // namespace wattguard::ingest
