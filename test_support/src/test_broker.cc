// Test broker and client implementation (see test_broker.h).
#include "wattguard/test_support/test_broker.h"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace wattguard::test_support {
namespace fs = std::filesystem;
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string mosquitto_binary() {
  for (const char* p : {"/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

TestBroker::TestBroker(fs::path dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  port_ = free_port();
  if (!fs::exists(password_file())) std::ofstream(password_file()).close();
  if (!fs::exists(acl_file())) std::ofstream(acl_file()).close();
  std::ofstream conf(dir_ / "mosquitto.conf");
  // Started as root, mosquitto would switch to the "mosquitto" user, who cannot read our files.
  if (const passwd* pw = ::getpwuid(::geteuid())) conf << "user " << pw->pw_name << "\n";
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "allow_anonymous false\n"
       << "password_file " << password_file().string() << "\n"
       << "acl_file " << acl_file().string() << "\n"
       << "persistence true\n"
       << "persistence_location " << dir_.string() << "/\n"
       << "autosave_interval 60\n"
       << "max_queued_messages 1000000\n"
       << "max_inflight_messages 100\n"
       << "set_tcp_nodelay true\n"
       << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n"
       << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
}

TestBroker::~TestBroker() { stop(); }

bool TestBroker::start() {
  if (pid_ > 0) return true;
  const std::string bin = mosquitto_binary();
  if (bin.empty()) return false;
  const std::string conf = (dir_ / "mosquitto.conf").string();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl(bin.c_str(), bin.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (port_open(port_)) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void TestBroker::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void TestBroker::reload() {
  if (pid_ > 0) ::kill(pid_, SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

std::string TestBroker::log() const {
  std::ifstream in(dir_ / "mosquitto.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ------------------------------------------------------------ client

TestClient::TestClient(int port, Options o) : port_(port) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(o.client_id.empty() ? nullptr : o.client_id.c_str(), o.clean_session, this);
  mosquitto_connect_callback_set(mosq_, &TestClient::cb_connect);
  mosquitto_disconnect_callback_set(mosq_, &TestClient::cb_disconnect);
  mosquitto_publish_callback_set(mosq_, &TestClient::cb_publish);
  mosquitto_message_callback_set(mosq_, &TestClient::cb_message);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  mosquitto_max_inflight_messages_set(mosq_, 100);
  if (!o.username.empty()) mosquitto_username_pw_set(mosq_, o.username.c_str(), o.password.c_str());
  if (o.will) {
    mosquitto_will_set(mosq_, o.will->first.c_str(), static_cast<int>(o.will->second.size()), o.will->second.data(), 1,
                       true);
  }
}

TestClient::~TestClient() {
  disconnect();
  mosquitto_destroy(mosq_);
}

void TestClient::cb_connect(mosquitto*, void* obj, int rc) {
  auto* self = static_cast<TestClient*>(obj);
  std::lock_guard lk(self->mu_);
  self->connack_ = rc;
  self->connected_ = rc == 0;
  self->cv_.notify_all();
}

void TestClient::cb_disconnect(mosquitto*, void* obj, int) {
  auto* self = static_cast<TestClient*>(obj);
  self->connected_ = false;
}

void TestClient::cb_publish(mosquitto*, void* obj, int) {
  auto* self = static_cast<TestClient*>(obj);
  std::lock_guard lk(self->mu_);
  ++self->acked_;
  self->cv_.notify_all();
}

void TestClient::cb_message(mosquitto*, void* obj, const mosquitto_message* m) {
  auto* self = static_cast<TestClient*>(obj);
  if (self->on_message) {
    self->on_message(m->topic, std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)));
  }
}

int TestClient::connect(int timeout_ms) {
  {
    std::lock_guard lk(mu_);
    connack_ = -2;
  }
  mosquitto_connect_async(mosq_, "127.0.0.1", port_, 10);
  mosquitto_loop_start(mosq_);
  std::unique_lock lk(mu_);
  if (!cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return connack_ != -2; })) return -1;
  return connack_;
}

bool TestClient::publish(const std::string& topic, const std::string& payload, bool retain, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int rc =
        mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, retain);
    if (rc == MOSQ_ERR_SUCCESS) {
      std::lock_guard lk(mu_);
      ++sent_;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // not connected: store-and-forward
  }
  return false;
}

bool TestClient::wait_acked(int timeout_ms) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return acked_ >= sent_; });
}

bool TestClient::subscribe(const std::string& topic) {
  return mosquitto_subscribe(mosq_, nullptr, topic.c_str(), 1) == MOSQ_ERR_SUCCESS;
}

void TestClient::drop_connection() {
  // The loop thread is cancelled below. Pushing its reconnect an hour out keeps it asleep in a
  // cancellation point: cancelled inside getaddrinfo() on an immediate reconnect, libmosquitto
  // leaks the resolver's result (LeakSanitizer failed a CI run on it).
  mosquitto_reconnect_delay_set(mosq_, 3600, 3600, false);
  const int fd = mosquitto_socket(mosq_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  mosquitto_loop_stop(mosq_, true);
}

void TestClient::disconnect() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
}

}  // namespace wattguard::test_support
