// The drills: a common timeline (start, warm up, fault, recover, drain, count) with each drill's fault in it.
#include "cli/bench_faults_drills.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "cli/bench_faults_rig.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/file_write.h"

namespace wattguard::cli {
namespace {

using Steady = std::chrono::steady_clock;

// Samples in a row that show the store caught up before the watch ends early.
constexpr int kCaughtUpSamples = 3;
// Samples in a row with an unchanging gap (and drained meter queues) after which the rest of the gap is taken
// to be loss, so the watch need not run to its limit.
constexpr int kSteadyGapSamples = 5;
// Never end the watch on a steady gap sooner than this after the fault's end (a restarting server takes a few
// seconds to fetch its backlog).
constexpr double kMinSettleS = 10;
// The drain after the meters stop: queues empty and the store unchanged for this many samples, at most
// kDrainLimitS.
constexpr int kDrainStableSamples = 3;
constexpr double kDrainLimitS = 30;
// The server's clean stop (SIGTERM): it flushes and compacts.
constexpr int kServerStopGraceMs = 30'000;
// Ballast is written in big blocks, then small ones, until the file system refuses.
constexpr std::size_t kBallastBigBlock = 1 << 20;
constexpr std::size_t kBallastSmallBlock = 4096;

constexpr const char* kServerKill = "server_kill";
constexpr const char* kBrokerKill = "broker_kill";
constexpr const char* kDiskFull = "disk_full";
constexpr const char* kClockJump = "clock_jump";
constexpr const char* kMeterOutage = "meter_outage";

class Timeline {
 public:
  Timeline(Rig& rig, const DrillSettings& s, std::string name)
      : rig_(rig), s_(s), name_(std::move(name)), t0_(Steady::now()) {}

  double now_s() const { return std::chrono::duration<double>(Steady::now() - t0_).count(); }

  void phase(const std::string& what) const {
    if (s_.progress) std::fprintf(stderr, "[bench faults] %7.1f s  %-12s %s\n", now_s(), name_.c_str(), what.c_str());
  }

  // One look at made/stored (and health while `with_health`).
  const Sample& look(bool with_health) {
    Sample s;
    s.made = rig_.made();
    s.stored = rig_.stored_now();
    s.t_s = now_s();
    samples_.push_back(s);
    if (with_health) {
      const int64_t before_ms = system_now_ms();
      const HealthLook h = rig_.health();
      health_.insert(h.status);
      ready_.insert(h.ready_status);
      if (h.storage_errors) max_storage_errors_ = std::max(max_storage_errors_, *h.storage_errors);
      if (h.now_ms) {
        // The server's clock against ours, to the nearest second (the request takes milliseconds).
        const int64_t offset_s = (*h.now_ms - (before_ms + system_now_ms()) / 2) / 1000;
        if (std::llabs(offset_s) > std::llabs(max_clock_offset_s_)) max_clock_offset_s_ = offset_s;
      }
    }
    return samples_.back();
  }

  // Looks every poll_s for `seconds`.
  void watch_for(double seconds, bool with_health) {
    const double end = now_s() + seconds;
    while (now_s() < end) {
      const auto next =
          Steady::now() + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s_.poll_s));
      look(with_health);
      std::this_thread::sleep_until(
          std::min(next, t0_ + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(end))));
    }
  }

  // After the fault's end: until the store has caught up, or its gap to what was made has stopped moving with
  // the meters' queues drained (what remains is loss), or watch_s.
  void watch_recovery(double fault_end_s, uint64_t allowed_lag) {
    int caught = 0, steady = 0;
    std::optional<uint64_t> last_gap;
    while (now_s() - fault_end_s < s_.watch_s) {
      const auto next =
          Steady::now() + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s_.poll_s));
      const Sample& x = look(true);
      if (x.stored && *x.stored + allowed_lag >= x.made) {
        if (++caught >= kCaughtUpSamples) return;
      } else {
        caught = 0;
      }
      if (x.stored) {
        const uint64_t gap = x.made > *x.stored ? x.made - *x.stored : 0;
        const bool same = last_gap && (gap > *last_gap ? gap - *last_gap : *last_gap - gap) <= allowed_lag;
        steady = same && rig_.queued() <= allowed_lag ? steady + 1 : 0;
        last_gap = gap;
        if (steady >= kSteadyGapSamples && now_s() - fault_end_s >= kMinSettleS) return;
      }
      std::this_thread::sleep_until(next);
    }
  }

  // The meters have stopped measuring: wait for their queues and the store to settle.
  void drain() {
    const double end = now_s() + kDrainLimitS;
    int stable = 0;
    std::optional<uint64_t> last;
    while (now_s() < end) {
      const Sample& x = look(false);
      const bool done = x.stored && *x.stored >= x.made;
      stable = x.stored && last == x.stored && rig_.queued() == 0 ? stable + 1 : 0;
      last = x.stored;
      if (done || stable >= kDrainStableSamples) return;
      std::this_thread::sleep_for(std::chrono::duration<double>(s_.poll_s));
    }
  }

  const std::vector<Sample>& samples() const { return samples_; }
  const std::set<std::string>& health() const { return health_; }
  const std::set<int>& ready() const { return ready_; }
  uint64_t max_storage_errors() const { return max_storage_errors_; }
  int64_t max_clock_offset_s() const { return max_clock_offset_s_; }

 private:
  Rig& rig_;
  const DrillSettings& s_;
  std::string name_;
  Steady::time_point t0_;
  std::vector<Sample> samples_;
  std::set<std::string> health_;
  std::set<int> ready_;
  uint64_t max_storage_errors_ = 0;
  int64_t max_clock_offset_s_ = 0;
};

// Fills the file system holding `path` with one file until writes fail; the bytes written.
uint64_t fill_with_ballast(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::vector<char> zeros(kBallastBigBlock, 0);
  uint64_t written = 0;
  for (const std::size_t block : {kBallastBigBlock, kBallastSmallBlock}) {
    for (;;) {
      const ssize_t n = ::write(fd, zeros.data(), block);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<uint64_t>(n);
    }
  }
  ::close(fd);
  return written;
}

// Frees `mib` MiB of the ballast at `path` by shortening it (0: removes it); the note says what was freed.
Expected<std::string> free_ballast(const std::filesystem::path& path, uint64_t mib) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (mib == 0 || ec || size <= (mib << 20)) {
    std::filesystem::remove(path, ec);
    if (ec) return Error::io("removing the ballast: " + ec.message());
    return std::string("ballast removed");
  }
  std::filesystem::resize_file(path, size - (mib << 20), ec);
  if (ec) return Error::io("shortening the ballast: " + ec.message());
  return std::to_string(mib) + " MiB freed";
}

// The fault of each drill: what starts it, and what ends it (returns the note, if any). The fault's end time is
// taken by the caller right before `end`: a restart's own duration counts toward recovery.
struct Fault {
  double hold_s = 0;
  std::function<Expected<std::string>(Rig&)> begin;
  std::function<Expected<std::string>(Rig&)> end;
};

Fault fault_of(const std::string& name, const DrillSettings& s) {
  Fault f;
  if (name == kServerKill) {
    f.hold_s = s.down_s;
    f.begin = [](Rig& rig) -> Expected<std::string> {
      rig.kill_server();
      return std::string();
    };
    f.end = [](Rig& rig) -> Expected<std::string> {
      if (auto up = rig.start_server(); !up.ok()) return up.error();
      return std::string();
    };
  } else if (name == kBrokerKill) {
    f.hold_s = s.down_s;
    f.begin = [](Rig& rig) -> Expected<std::string> {
      rig.broker().kill();
      return std::string();
    };
    f.end = [](Rig& rig) -> Expected<std::string> {
      if (auto up = rig.broker().restart(); !up.ok()) return up.error();
      return std::string();
    };
  } else if (name == kDiskFull) {
    f.hold_s = s.disk_full_s;
    f.begin = [](Rig& rig) -> Expected<std::string> {
      const uint64_t bytes = fill_with_ballast(rig.server_data_dir() / "ballast");
      return "ballast " + std::to_string(bytes >> 20) + " MiB";
    };
    // An operator who finds the disk full frees what they can, often a few megabytes: the server must catch up
    // in that space (the tester saw the WAL fill 5.6 freed MB again in 3 s), not only after the whole ballast goes.
    f.end = [freed_mib = s.disk_freed_mib](Rig& rig) -> Expected<std::string> {
      return free_ballast(rig.server_data_dir() / "ballast", freed_mib);
    };
  } else if (name == kClockJump) {
    f.hold_s = s.clock_jump_s;
    const int64_t offset = s.clock_offset_s;
    const auto file = s.root / name / "clock-offset";
    f.begin = [offset, file](Rig&) -> Expected<std::string> {
      const std::string text = (offset >= 0 ? "+" : "") + std::to_string(offset) + "\n";
      if (auto w = write_file_atomically(file, text); !w.ok()) return w.error();
      return "server clock " + text.substr(0, text.size() - 1) + " s";
    };
    f.end = [file](Rig&) -> Expected<std::string> {
      if (auto w = write_file_atomically(file, "+0\n"); !w.ok()) return w.error();
      return std::string();
    };
  } else {
    f.hold_s = s.outage_s;
    f.begin = [](Rig& rig) -> Expected<std::string> {
      rig.link()->cut();
      return std::string();
    };
    f.end = [](Rig& rig) -> Expected<std::string> {
      rig.link()->restore();
      if (auto again = rig.restart_outage_fleet(); !again.ok()) return again.error();
      return std::string();
    };
  }
  return f;
}

void add_note(DrillReport& r, const std::string& note) {
  if (note.empty()) return;
  if (!r.notes.empty()) r.notes += "; ";
  r.notes += note;
}

}  // namespace

const std::vector<std::string>& drill_names() {
  static const std::vector<std::string> kNames = {kServerKill, kBrokerKill, kDiskFull, kClockJump, kMeterOutage};
  return kNames;
}

DrillReport run_drill(const std::string& name, const DrillSettings& s) {
  DrillReport report;
  report.drill = name;
  RigOptions o;
  o.dir = s.root / name;
  std::error_code ec;
  std::filesystem::remove_all(o.dir, ec);
  o.meters = s.meters;
  o.outage_meters = name == kMeterOutage ? s.outage_meters : 0;
  o.period_ms = s.period_ms;
  o.seed = s.seed;
  report.meters = o.meters + o.outage_meters;
  if (name == kDiskFull) o.tmpfs_mib = s.tmpfs_mib;
  if (name == kClockJump) {
    if (::access(s.faketime_library.c_str(), R_OK) != 0) {
      report.skipped = "libfaketime not found at " + s.faketime_library + " (Debian package faketime)";
      return report;
    }
    o.faketime_library = s.faketime_library;
    o.clock_offset_file = o.dir / "clock-offset";
    std::filesystem::create_directories(o.dir);
    if (auto w = write_file_atomically(o.clock_offset_file, "+0\n"); !w.ok()) {
      report.error = w.error().message;
      return report;
    }
  }

  if (s.progress)
    std::fprintf(stderr, "[bench faults] %-12s starting broker, server and %zu meters\n", name.c_str(), report.meters);
  auto started = Rig::start(o);
  if (!started.ok()) {
    if (name == kDiskFull && started.error().code == ErrorCode::kPermissionDenied) {
      report.skipped = started.error().message;
    } else {
      report.error = started.error().message;
    }
    return report;
  }
  Rig& rig = *started.value();
  Timeline tl(rig, s, name);
  // The store may trail what was made by this much in normal operation: two periods' readings of every meter
  // (one in flight, one in the batch being committed), more when the store is asked less often than each period.
  const uint64_t per_meter =
      std::max<uint64_t>(2, static_cast<uint64_t>(std::ceil(2 * s.poll_s * 1000 / static_cast<double>(s.period_ms))));
  const uint64_t allowed_lag = report.meters * per_meter;

  tl.phase("warming up");
  tl.watch_for(s.warmup_s, false);
  const Fault fault = fault_of(name, s);
  tl.phase("fault begins");
  const double fault_begin_s = tl.now_s();
  auto began = fault.begin(rig);
  if (!began.ok()) {
    report.error = "starting the fault: " + began.error().message;
    return report;
  }
  add_note(report, began.value());
  tl.watch_for(fault.hold_s, true);
  tl.phase("fault ends");
  const double fault_end_s = tl.now_s();
  report.fault_s = fault_end_s - fault_begin_s;
  auto ended = fault.end(rig);
  if (!ended.ok()) {
    report.error = "ending the fault: " + ended.error().message;
    return report;
  }
  add_note(report, ended.value());
  tl.phase("watching recovery");
  tl.watch_recovery(fault_end_s, allowed_lag);

  tl.phase("draining");
  rig.pause_meters();
  tl.drain();
  report.health_after = rig.health().status;
  if (name == kDiskFull) {
    // Whether catching up filled the freed space again (the WAL refilling the disk).
    std::error_code ec;
    const auto space = std::filesystem::space(rig.server_data_dir(), ec);
    if (!ec) add_note(report, std::to_string(space.available >> 20) + " MiB free once drained");
  }
  report.health_during = tl.health();
  report.ready_during = tl.ready();
  rig.stop_meters(2000);
  tl.phase("stopping the server, counting rows");
  if (!rig.stop_server(kServerStopGraceMs)) add_note(report, "server needed SIGKILL to stop");
  auto books = rig.books();
  if (!books.ok()) {
    report.error = books.error().message;
    return report;
  }
  report.counts = count_drill(books.value());
  if (tl.max_storage_errors() > 0) {
    add_note(report, "server storage errors " + std::to_string(tl.max_storage_errors()));
  }
  if (name == kDiskFull && tl.max_storage_errors() == 0) {
    add_note(report, "no storage error seen: the server wrote nothing that needed new space while the disk was full");
  }
  if (name == kClockJump)
    add_note(report, "server clock seen off by " + std::to_string(tl.max_clock_offset_s()) + " s");
  if (report.counts.unexpected > 0) add_note(report, std::to_string(report.counts.unexpected) + " unexpected rows");
  report.recovered_s = recovered_after(tl.samples(), fault_end_s, report.counts.lost, allowed_lag);
  return report;
}

}  // namespace wattguard::cli
