// `kill -9` of a real `wattguard serve` process between the broker's hand-over of QoS 1 readings and their
// commit: the readings come back from the ingest journal at the next start, none lost and none twice.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/broker/broker_process.h"
#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"

extern char** environ;

namespace wattguard {
namespace {

using test_support::TempDir;

constexpr int kReadings = 300;

// One `wattguard serve --config F` process, its output in a file.
class ServeProcess {
 public:
  ServeProcess(const std::string& config, const std::string& log) : log_(log) {
    std::vector<std::string> args = {WATTGUARD_BINARY, "serve", "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    if (posix_spawn(&pid_, WATTGUARD_BINARY, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServeProcess() { end(SIGKILL); }
  bool started() const { return pid_ > 0; }
  // Sends the signal and reaps the process; its exit status (or -signal).
  int end(int signal) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  // Waits until the log holds `text` `times` times (the log is appended to across restarts).
  bool wait_for_log(const std::string& text, int times, std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (count_in_log(text) >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  int count_in_log(const std::string& text) const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    int n = 0;
    for (auto at = s.find(text); at != std::string::npos; at = s.find(text, at + 1)) ++n;
    return n;
  }
  std::string log_text() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

std::uintmax_t bytes_under(const std::filesystem::path& dir) {
  std::error_code ec;
  std::uintmax_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) n += e.file_size(ec);
  return n;
}

TEST(ServerKill, ReadingsTheServerReceivedButHadNotCommittedWhenKilledAreStoredAfterItsRestartOnceEach) {
  TempDir dir("server-kill");
  auto started = broker::BrokerProcess::start(broker::anonymous_setup(dir.path() / "broker"));
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto broker = std::move(started).value();
  const std::filesystem::path data = dir.path() / "data";
  std::filesystem::create_directories(data);
  {
    storage::SqliteOptions so;
    so.path = (data / "wattguard.db").string();
    auto store = storage::SqliteStore::open(so);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE(store.value()->add_meter({"m1", "House 1", "north", "", 0}).ok());
  }
  // A batch waits up to 60 s: whatever the server received when it is killed is not yet committed.
  const std::string config = dir.file("serve.toml");
  std::ofstream(config) << "[http]\nport = 0\n[mqtt]\nhost = \"127.0.0.1\"\nport = " << broker->port()
                        << "\nusername = \"\"\nsign_commands = false\n[storage]\ndata_dir = \"" << data.string()
                        << "\"\n[ingest]\nflush_interval_ms = 60000\nflush_max_readings = 100000\n[alerts]\n"
                           "offline_alerts = false\n[log]\nlevel = \"info\"\n";
  const std::string log = dir.file("serve.log");
  const std::string connected = "ingest: connected to";
  {
    ServeProcess serve(config, log);
    ASSERT_TRUE(serve.started());
    ASSERT_TRUE(serve.wait_for_log(connected, 1, std::chrono::seconds(60))) << serve.log_text();

    test_support::TestClient meter(broker->port(), {});
    ASSERT_EQ(meter.connect(), 0);
    const int64_t t0 = 1714557600000;
    for (int i = 1; i <= kReadings; ++i) {
      protocol::Reading r;
      r.meter_id = "m1";
      r.seq = static_cast<uint64_t>(i);
      r.time_ms = t0 + i * 5000;
      r.vrms = 230;
      r.irms = 1;
      r.p_w = 230;
      r.s_va = 230;
      r.pf = 1;
      r.freq_hz = 50;
      r.e_import_wh = 1000 + i;
      ASSERT_TRUE(meter.publish(protocol::make_topic("m1", protocol::TopicKind::kReading), protocol::encode(r)));
    }
    ASSERT_TRUE(meter.wait_acked());
    // The server has them (journaled, acknowledged to the broker) once its journal holds them all.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (bytes_under(data / "ingest-journal") < kReadings * 100u && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GE(bytes_under(data / "ingest-journal"), kReadings * 100u) << "the server never journaled the readings";
    EXPECT_EQ(serve.end(SIGKILL), -SIGKILL);
  }
  {
    ServeProcess serve(config, log);
    ASSERT_TRUE(serve.started());
    ASSERT_TRUE(serve.wait_for_log(connected, 2, std::chrono::seconds(60))) << serve.log_text();
    EXPECT_EQ(serve.end(SIGTERM), 0) << serve.log_text();  // a clean stop commits what is queued
  }
  storage::SqliteOptions so;
  so.path = (data / "wattguard.db").string();
  auto store = storage::SqliteStore::open(so);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto rows = store.value()->raw_readings("m1", 0, INT64_MAX);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  std::set<uint64_t> seqs;
  for (const auto& r : rows.value()) seqs.insert(r.seq);
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kReadings)) << "lost " << kReadings - seqs.size();
  EXPECT_EQ(rows.value().size(), seqs.size()) << "stored twice";
  // Everything handled: the journal let go of it.
  EXPECT_EQ(bytes_under(data / "ingest-journal"), 0u);
}

}  // namespace
}  // namespace wattguard
