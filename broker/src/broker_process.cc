// Mosquitto as a child process: configuration files, start, readiness, stop, reload.
#include "wattguard/broker/broker_process.h"

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
#include <sstream>
#include <thread>

#include "broker/src/child_process.h"

namespace wattguard::broker {
namespace {

bool write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

// Runs a program to completion; returns its exit status (-1 if it could not run).
int run_program(const std::vector<std::string>& argv) {
  // Everything that allocates happens before fork(): the child of a threaded process may only
  // make async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

bool port_accepts(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string broker_acl_text(const std::string& server_user, const std::vector<std::string>& gateway_users) {
  std::string acl =
      "# Written by wattguard: the server, the gateways (if any), then every meter user (name = meter id).\n";
  acl += "user " + server_user + "\n";
  acl += "topic read wattguard/v1/#\n";
  acl += "topic write wattguard/v1/+/cmd\n\n";
  for (const std::string& gateway_user : gateway_users) {
    acl += "user " + gateway_user + "\n";
    for (const char* suffix : {"reading", "status", "event", "cmd/ack"}) {
      acl += std::string("topic write wattguard/v1/+/") + suffix + "\n";
    }
    acl += "topic read wattguard/v1/+/cmd\n\n";
  }
  for (const char* suffix : {"reading", "status", "event", "cmd/ack"}) {
    acl += std::string("pattern write wattguard/v1/%u/") + suffix + "\n";
  }
  acl += "pattern read wattguard/v1/%u/cmd\n";
  return acl;
}

std::string tls_listener_config(const BrokerTlsListener& listener, uint16_t port) {
  std::ostringstream conf;
  // Listener-specific settings follow their `listener` line; the security settings above stay global.
  conf << "listener " << port << " 127.0.0.1\n"
       << "certfile " << std::filesystem::absolute(listener.certificate_file).string() << "\n"
       << "keyfile " << std::filesystem::absolute(listener.key_file).string() << "\n";
  if (!listener.ca_file.empty()) conf << "cafile " << std::filesystem::absolute(listener.ca_file).string() << "\n";
  // Mosquitto 2.0 already refuses older versions; said here so that an older default cannot weaken it.
  conf << "tls_version tlsv1.2\n"
       << "max_connections -1\n";  // per listener, like the plain one's
  return conf.str();
}

std::string mosquitto_binary() { return find_server_program("mosquitto"); }

std::string find_server_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string rest = path;
    for (std::size_t colon; (colon = rest.find(':')) != std::string::npos; rest.erase(0, colon + 1)) {
      dirs.push_back(rest.substr(0, colon));
    }
    dirs.push_back(rest);
  }
  // Debian installs it in /usr/sbin, which a user's PATH may lack.
  for (const char* d : {"/usr/sbin", "/usr/local/sbin"}) dirs.emplace_back(d);
  for (const std::string& d : dirs) {
    if (d.empty()) continue;
    const std::string candidate = d + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

namespace {

// The password file and the ACL for BrokerAccess::kUsers.
Expected<void> write_user_files(const BrokerSetup& setup, const std::filesystem::path& passwd_path,
                                const std::filesystem::path& acl_path) {
  // Passwords: written in plain text, then hashed in place by the broker's own tool, so the
  // format is whatever this Mosquitto version expects.
  const auto line = [&setup](const BrokerUser& u) {
    return u.name + ":" + (setup.hash_password ? setup.hash_password(u.password) : u.password) + "\n";
  };
  std::string passwd = line(setup.server);
  for (const BrokerUser& g : setup.gateways) passwd += line(g);
  for (const BrokerUser& m : setup.meters) passwd += line(m);
  if (!write_file(passwd_path, passwd, 0600)) return Error::io("cannot write " + passwd_path.string());
  if (!setup.hash_password && run_program({"mosquitto_passwd", "-U", passwd_path.string()}) != 0) {
    return Error::unavailable("mosquitto_passwd -U " + passwd_path.string() + " failed (is mosquitto installed?)");
  }
  std::vector<std::string> gateway_names;
  for (const BrokerUser& g : setup.gateways) gateway_names.push_back(g.name);
  if (!write_file(acl_path, setup.acl_text ? *setup.acl_text : broker_acl_text(setup.server.name, gateway_names),
                  0600)) {
    return Error::io("cannot write " + acl_path.string());
  }
  return {};
}

// Empty files the caller fills (kept if they exist: a test may have written them already).
Expected<void> create_caller_files(const std::filesystem::path& passwd_path, const std::filesystem::path& acl_path) {
  for (const auto& path : {passwd_path, acl_path}) {
    if (std::filesystem::exists(path)) continue;
    if (!write_file(path, "", 0600)) return Error::io("cannot write " + path.string());
  }
  return {};
}

}  // namespace

Expected<std::unique_ptr<BrokerProcess>> BrokerProcess::prepare(const BrokerSetup& setup) {
  std::error_code ec;
  std::filesystem::create_directories(setup.dir, ec);
  if (ec) return Error::io("broker directory " + setup.dir.string() + ": " + ec.message());
  const auto dir = std::filesystem::absolute(setup.dir);
  const auto passwd_path = dir / "passwd";
  const auto acl_path = dir / "acl";
  if (setup.access == BrokerAccess::kUsers) {
    auto written = write_user_files(setup, passwd_path, acl_path);
    if (!written.ok()) return std::move(written).error();
  } else if (setup.access == BrokerAccess::kCallerFiles) {
    auto written = create_caller_files(passwd_path, acl_path);
    if (!written.ok()) return std::move(written).error();
  }

  const uint16_t port = setup.port != 0 ? setup.port : free_port();
  if (port == 0) return Error::unavailable("no free TCP port on 127.0.0.1");
  std::ostringstream conf;
  conf << "# Written by wattguard for a private broker; see docs/fleet.md.\n"
       << "listener " << port << " 127.0.0.1\n";
  if (setup.access == BrokerAccess::kAnonymous) {
    conf << "allow_anonymous true\n";
  } else {
    conf << "allow_anonymous false\n"
         << "password_file " << passwd_path.string() << "\n"
         << "acl_file " << acl_path.string() << "\n";
    // A login's client id is its user name: one meter's login can then neither take over the server's session
    // (dropping its queued readings) nor kick another meter off (docs/security.md).
    if (setup.bind_client_ids) conf << "use_username_as_clientid true\n";
  }
  // Thousands of meters: no connection cap (the process fd limit is the cap).
  conf << "max_connections -1\n"
       // The server's persistent session must never drop QoS 1 readings while it catches up
       // (the default keeps only 1,000 queued per client).
       << "max_queued_messages 10000000\n"
       << "max_inflight_messages 500\n"
       // Our largest message is a few KiB: a client sending more is cut off at the broker, before a
       // 100 MB payload could reach (and be buffered by) the server.
       << "max_packet_size " << kMaxPacketBytes << "\n"
       << "set_tcp_nodelay true\n"
       << "persistence " << (setup.persistence ? "true" : "false") << "\n"
       << "persistence_location " << dir.string() << "/\n"
       << "autosave_interval 30\n"
       << "log_dest file " << (dir / "mosquitto.log").string() << "\n"
       << "log_type error\nlog_type warning\nlog_type notice\n"
       << "connection_messages false\n";
  // Started by root, Mosquitto would switch to the "mosquitto" user and then fail to read its
  // files here (they belong to whoever started us). It is a private loopback broker: keep the user.
  if (::geteuid() == 0) conf << "user root\n";
  uint16_t tls_port = 0;
  if (setup.tls) {
    for (const auto& [file, what] :
         {std::pair{setup.tls->certificate_file, "certificate"}, std::pair{setup.tls->key_file, "key"}}) {
      if (file.empty() || !std::filesystem::exists(file)) {
        return Error::invalid(std::string("tls.") + what + "_file", file.string(),
                              std::string("the broker's TLS listener needs its ") + what + " file");
      }
    }
    tls_port = setup.tls->port != 0 ? setup.tls->port : free_port();
    if (tls_port == 0 || tls_port == port) return Error::unavailable("no second free TCP port on 127.0.0.1");
    conf << "\n# MQTT over TLS (docs/security.md).\n" << tls_listener_config(*setup.tls, tls_port);
  }
  const auto conf_path = dir / "mosquitto.conf";
  if (!write_file(conf_path, conf.str(), 0600)) return Error::io("cannot write " + conf_path.string());

  std::unique_ptr<BrokerProcess> broker(new BrokerProcess());
  broker->dir_ = dir;
  broker->executable_ = setup.executable.empty() ? mosquitto_binary() : setup.executable;
  if (broker->executable_.empty()) broker->executable_ = "mosquitto";  // fails at launch, naming it
  broker->port_ = port;
  broker->tls_port_ = tls_port;
  return broker;
}

Expected<std::unique_ptr<BrokerProcess>> BrokerProcess::start(const BrokerSetup& setup, int timeout_ms) {
  auto prepared = prepare(setup);
  if (!prepared.ok()) return prepared;
  auto launched = prepared.value()->launch(timeout_ms);
  if (!launched.ok()) return std::move(launched).error();
  return prepared;
}

Expected<void> BrokerProcess::launch(int timeout_ms) {
  if (pid_ > 0) return {};
  const std::string conf = (dir_ / "mosquitto.conf").string();
  auto pid = spawn_child(executable_, {"-c", conf}, (dir_ / "mosquitto.stderr").string());
  if (!pid.ok()) return pid.error();
  pid_ = pid.value();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Error::unavailable("mosquitto exited at start (status " + std::to_string(status) + "): " + log_tail());
    }
    if (port_accepts(port_) && (tls_port_ == 0 || port_accepts(tls_port_))) return {};
    if (std::chrono::steady_clock::now() > deadline) {
      stop(1000);
      return Error::unavailable("mosquitto not accepting connections on port " + std::to_string(port_) + ": " +
                                log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void BrokerProcess::stop(int grace_ms) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

void BrokerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Expected<void> BrokerProcess::restart(int timeout_ms) {
  stop();
  return launch(timeout_ms);
}

void BrokerProcess::reload() {
  if (pid_ > 0) ::kill(pid_, SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

std::string BrokerProcess::log_tail(std::size_t max_bytes) const {
  std::string out;
  for (const char* name : {"mosquitto.stderr", "mosquitto.log"}) {
    std::ifstream in(dir_ / name);
    if (!in) continue;
    std::stringstream buf;
    buf << in.rdbuf();
    std::string s = buf.str();
    if (s.size() > max_bytes) s = s.substr(s.size() - max_bytes);
    if (!s.empty()) out += std::string("[") + name + "] " + s;
  }
  return out.empty() ? std::string("(no broker log)") : out;
}

BrokerProcess::~BrokerProcess() { stop(); }

}  // namespace wattguard::broker
