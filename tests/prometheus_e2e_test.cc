// A real Prometheus (Debian's prometheus package) scrapes the running server's /metrics every second with a
// read-only API token as its bearer token; the test asks Prometheus' HTTP API until the target is up and a
// wattguard counter has a value. Also the separate metrics listener ([metrics] listen). Prometheus missing is a
// failure, not a skip: scripts/install-deps.sh installs it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e_support.h"
#include "wattguard/demo/local_system.h"
#include "wattguard/notify/http_client.h"

namespace wattguard::e2e {
namespace {

using nlohmann::json;

// The first of `names` found in the usual folders of programs, or "".
std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// A child process (stdout and stderr to `log`), terminated and reaped when the object goes away.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

notify::HttpOutcome get(const std::string& url, const std::string& token = "") {
  notify::HttpCall c;
  c.method = "GET";
  c.url = url;
  if (!token.empty()) c.headers.emplace_back("Authorization", "Bearer " + token);
  c.keep_body_bytes = std::size_t{1} << 20;
  c.timeout_ms = 5000;
  return notify::http_call(c);
}

// The value of an instant query's first sample, or "" while there is none.
std::string query_value(uint16_t prometheus_port, const std::string& encoded_query) {
  const auto out = get("http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/query?query=" + encoded_query);
  if (!out.ok()) return "";
  const json body = json::parse(out.body, nullptr, false);
  if (!body.is_object() || body.value("status", "") != "success") return "";
  const json& result = body["data"]["result"];
  if (!result.is_array() || result.empty()) return "";
  return result[0]["value"][1].get<std::string>();
}

class PrometheusE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    demo::LocalSystemOptions o;
    o.data_dir = dir_.path() / "system";
    o.http_port = 0;
    o.password_cost = "min";
    o.create_operator = false;
    o.demo_accounts = false;
    o.fleet.meters = 2;
    o.fleet.period_ms = 1000;
    o.fleet.journal_fsync = false;
    o.configure_server = [](serve::ServerConfig& c) { c.metrics.listen = "127.0.0.1:0"; };
    auto s = demo::LocalSystem::start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    sys_ = std::move(s).value();
    token_ = sys_->server().auth().create_token(api::TokenScope::kRead, "prometheus", std::time(nullptr));
  }
  void TearDown() override {
    if (sys_) sys_->stop();
  }

  TempDir dir_{"prometheus-e2e"};
  std::unique_ptr<demo::LocalSystem> sys_;
  std::string token_;
};

TEST_F(PrometheusE2e, ARealPrometheusScrapesTheServerWithABearerTokenAndSeesItsCounters) {
  const std::string prometheus = find_program("prometheus");
  ASSERT_FALSE(prometheus.empty()) << "prometheus is not installed (scripts/install-deps.sh installs it)";
  const uint16_t port = broker::free_port();
  ASSERT_NE(port, 0);
  const std::string token_file = dir_.file("token");
  std::ofstream(token_file) << token_;
  const std::string config = dir_.file("prometheus.yml");
  std::ofstream(config) << "global:\n"
                           "  scrape_interval: 1s\n"
                           "  evaluation_interval: 1s\n"
                           "scrape_configs:\n"
                           "  - job_name: wattguard\n"
                           "    scrape_interval: 1s\n"
                           "    scrape_timeout: 1s\n"
                           "    metrics_path: /metrics\n"
                           "    authorization:\n"
                           "      type: Bearer\n"
                           "      credentials_file: "
                        << token_file
                        << "\n"
                           "    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << sys_->server().http_port() << "']\n";
  const std::string log = dir_.file("prometheus.log");
  ChildProcess child({prometheus, "--config.file=" + config, "--storage.tsdb.path=" + dir_.file("tsdb"),
                      "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                     log);
  ASSERT_TRUE(child.started());

  // up{job="wattguard"} == 1: Prometheus reached /metrics and was let in by the token.
  std::string up;
  for (int i = 0; i < 600 && up != "1"; ++i) {
    up = query_value(port, "up%7Bjob%3D%22wattguard%22%7D");
    if (up != "1") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(up, "1") << "Prometheus log:\n" << slurp(log);
  // The fleet's readings arrive: the stored-readings counter has a positive value in Prometheus.
  double stored = 0;
  for (int i = 0; i < 600 && stored <= 0; ++i) {
    const std::string v = query_value(port, "wattguard_ingest_readings_stored_total%7Bjob%3D%22wattguard%22%7D");
    if (!v.empty()) stored = std::stod(v);
    if (stored <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(stored, 0) << "Prometheus log:\n" << slurp(log);
  EXPECT_EQ(query_value(port, "wattguard_connections%7Bprotocol%3D%22mqtt%22%7D"), "1");
  // The scrapes themselves are counted by the HTTP server (a scrape sees the ones before it).
  std::string scrapes;
  for (int i = 0; i < 300 && scrapes.empty(); ++i) {
    scrapes = query_value(port, "wattguard_http_responses_total%7Bmethod%3D%22GET%22%2Cstatus%3D%222xx%22%7D");
    if (scrapes.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(scrapes, "");
}

TEST_F(PrometheusE2e, TheSeparateMetricsListenerServesOnlyMetricsWithTheSameTokenRule) {
  const uint16_t port = sys_->server().metrics_port();
  ASSERT_NE(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(get(base + "/metrics").status, 401);
  const auto ok = get(base + "/metrics", token_);
  EXPECT_EQ(ok.status, 200) << ok.describe();
  EXPECT_NE(ok.body.find("# TYPE wattguard_ingest_readings_received_total counter"), std::string::npos);
  EXPECT_EQ(get(base + "/healthz").status, 404);
  EXPECT_EQ(get(base + "/api/v1/meters", token_).status, 404);
  // The API's own port keeps its probes.
  EXPECT_EQ(get(sys_->url() + "/healthz").body, "ok");
  std::string ready;
  for (int i = 0; i < 100 && ready != "ready"; ++i) {
    ready = get(sys_->url() + "/readyz").body;
    if (ready != "ready") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(ready, "ready");
}

}  // namespace
}  // namespace wattguard::e2e
