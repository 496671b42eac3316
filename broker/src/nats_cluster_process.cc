// NATS cluster nodes as child processes: files, start, readiness over the monitor port, stop, kill, restart.
#include "wattguard/broker/nats_cluster_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "broker/src/child_process.h"
#include "wattguard/base/file_write.h"

namespace wattguard::broker {
namespace {

constexpr int kPortsPerNode = 4;
constexpr int kPollMs = 50;
constexpr int kMonitorTimeoutMs = 1000;  // one /jsz request; a node that takes longer is not ready

// GET `path` from 127.0.0.1:`port` (HTTP/1.0, the body up to the close); empty on any failure.
std::string http_get(uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{};
  tv.tv_sec = kMonitorTimeoutMs / 1000;
  tv.tv_usec = (kMonitorTimeoutMs % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The meta leader's name in a /jsz answer ("meta_cluster": {..., "leader": "node-1", ...}), or empty.
std::string meta_leader_name(const std::string& jsz) {
  const auto meta = jsz.find("\"meta_cluster\"");
  if (meta == std::string::npos) return "";
  const auto key = jsz.find("\"leader\"", meta);
  if (key == std::string::npos) return "";
  const auto open = jsz.find('"', jsz.find(':', key) + 1);
  const auto close = open == std::string::npos ? open : jsz.find('"', open + 1);
  if (close == std::string::npos) return "";
  return jsz.substr(open + 1, close - open - 1);
}

std::string tail_of(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

}  // namespace

Expected<std::unique_ptr<NatsCluster>> NatsCluster::start(const NatsClusterSetup& setup, int timeout_ms) {
  if (setup.nodes < 1) return Error::invalid("nodes", std::to_string(setup.nodes), "a cluster needs a node");
  std::unique_ptr<NatsCluster> cluster(new NatsCluster());
  cluster->executable_ = setup.executable.empty() ? nats_server_binary() : setup.executable;
  if (cluster->executable_.empty()) return Error::unavailable("nats-server is not installed (apt install nats-server)");
  if (auto made = create_private_directories(setup.dir); !made.ok()) return std::move(made).error();
  cluster->dir_ = std::filesystem::absolute(setup.dir);

  // Distinct free ports: each was free a moment ago; a clash with another process shows as a node that exits.
  std::set<uint16_t> taken;
  const auto next_port = [&taken]() -> uint16_t {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const uint16_t p = free_port();
      if (p != 0 && taken.insert(p).second) return p;
    }
    return 0;
  };
  for (int k = 0; k < setup.nodes; ++k) {
    NatsNodePorts p{next_port(), next_port(), next_port(), next_port()};
    if (p.client == 0 || p.cluster == 0 || p.mqtt == 0 || p.monitor == 0) {
      return Error::unavailable("no " + std::to_string(setup.nodes * kPortsPerNode) + " free TCP ports on 127.0.0.1");
    }
    cluster->ports_.push_back(p);
  }
  cluster->pids_.assign(cluster->ports_.size(), -1);

  auto users = nats_users_text(setup);
  if (!users.ok()) return std::move(users).error();
  const auto users_file = cluster->dir_ / "users.conf";
  if (auto w = write_file_atomically(users_file, users.value(), 0600); !w.ok()) return std::move(w).error();
  for (int k = 0; k < setup.nodes; ++k) {
    const auto node_dir = cluster->dir_ / ("node-" + std::to_string(k));
    if (auto made = create_private_directories(node_dir); !made.ok()) return std::move(made).error();
    const std::string conf = nats_node_config(setup, cluster->ports_, k, node_dir / "jetstream", users_file);
    const auto conf_path = cluster->dir_ / ("node-" + std::to_string(k) + ".conf");
    if (auto w = write_file_atomically(conf_path, conf, 0600); !w.ok()) return std::move(w).error();
  }
  for (int k = 0; k < setup.nodes; ++k) {
    if (auto launched = cluster->launch(k); !launched.ok()) return std::move(launched).error();
  }
  if (auto ready = cluster->wait_ready(timeout_ms); !ready.ok()) return std::move(ready).error();
  return cluster;
}

NatsCluster::~NatsCluster() { stop_all(); }

std::filesystem::path NatsCluster::log_file(int k) const { return dir_ / ("node-" + std::to_string(k) + ".log"); }

Expected<void> NatsCluster::launch(int k) {
  pid_t& pid_slot = pids_.at(static_cast<std::size_t>(k));
  if (pid_slot > 0) return {};
  const std::string conf = (dir_ / ("node-" + std::to_string(k) + ".conf")).string();
  // nats-server logs to stderr unless told otherwise: one file per node, appended across restarts.
  auto pid = spawn_child(executable_, {"-c", conf}, log_file(k).string());
  if (!pid.ok()) return pid.error();
  pid_slot = pid.value();
  return {};
}

void NatsCluster::stop(int k, int grace_ms) {
  pid_t& pid = pids_.at(static_cast<std::size_t>(k));
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid = -1;
}

void NatsCluster::kill(int k) {
  pid_t& pid = pids_.at(static_cast<std::size_t>(k));
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
}

Expected<void> NatsCluster::restart(int k, int timeout_ms) {
  stop(k);
  if (auto launched = launch(k); !launched.ok()) return launched;
  return wait_ready(timeout_ms);
}

void NatsCluster::stop_all() {
  // SIGTERM to all first, so that no node spends its grace waiting for routes to the others.
  for (pid_t pid : pids_) {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  for (int k = 0; k < nodes(); ++k) stop(k);
}

int NatsCluster::meta_leader() const {
  for (int k = 0; k < nodes(); ++k) {
    if (!running(k)) continue;
    const std::string name = meta_leader_name(http_get(ports(k).monitor, "/jsz"));
    if (name.rfind("node-", 0) != 0) continue;
    const int leader = std::atoi(name.c_str() + 5);
    if (leader >= 0 && leader < nodes()) return leader;
  }
  return -1;
}

bool NatsCluster::ready() const {
  for (int k = 0; k < nodes(); ++k) {
    if (!running(k)) continue;
    if (!port_accepts(ports(k).mqtt)) return false;
    if (meta_leader_name(http_get(ports(k).monitor, "/jsz")).empty()) return false;
  }
  return true;
}

Expected<void> NatsCluster::wait_ready(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    for (int k = 0; k < nodes(); ++k) {
      pid_t& pid = pids_[static_cast<std::size_t>(k)];
      int status = 0;
      if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return Error::unavailable("nats-server node " + std::to_string(k) + " exited at start (status " +
                                  std::to_string(status) + "): " + log_tail());
      }
    }
    if (ready()) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      return Error::unavailable("NATS cluster not ready (a JetStream meta leader and every MQTT port) within " +
                                std::to_string(timeout_ms) + " ms: " + log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

std::string NatsCluster::log_tail(std::size_t max_bytes_per_node) const {
  std::string out;
  for (int k = 0; k < nodes(); ++k) {
    const std::string s = tail_of(log_file(k), max_bytes_per_node);
    if (!s.empty()) out += "[node-" + std::to_string(k) + "] " + s;
  }
  return out.empty() ? std::string("(no node log)") : out;
}

}  // namespace wattguard::broker
