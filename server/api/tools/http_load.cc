// http_load: a small load tool for the HTTP server's defences (docs/security.md "Measured"), run against a real
// `wattguard serve` in another process. Not a test: it prints what it measured as one JSON object.
//
//   http_load upload  PORT PID BYTES PARALLEL   unauthenticated POSTs of BYTES to the import route; time to the
//                                               answer and the server's RSS (VmRSS of PID) before and its peak
//   http_load flood   PORT IDLE NAME PASSWORD   IDLE idle connections from 127.0.0.1, then a sign-in from
//                                               127.0.0.2: its status and time
//   http_load lockout PORT TRIES NAME PASSWORD  TRIES wrong passwords for NAME from 127.0.0.2 while the user signs
//                                               in with the right one from 127.0.0.1 every INTERVAL_MS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A blocking socket from `local` to 127.0.0.1:port, or -1.
int connect_from(const char* local, int port, int read_timeout_ms) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, local, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = read_timeout_ms / 1000;
  tv.tv_usec = (read_timeout_ms % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The status of the answer's first line, or 0 when none came.
int read_status(int fd) {
  std::string got;
  char chunk[512];
  while (got.find("\r\n") == std::string::npos) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    got.append(chunk, static_cast<std::size_t>(n));
  }
  const auto space = got.find(' ');
  return space == std::string::npos ? 0 : std::atoi(got.c_str() + space + 1);
}

long rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string sign_in_request(const std::string& name, const std::string& password) {
  const std::string body = "{\"name\":\"" + name + "\",\"password\":\"" + password + "\"}";
  return "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

int sign_in(const char* local, int port, const std::string& name, const std::string& password) {
  const int fd = connect_from(local, port, 60000);
  if (fd < 0) return -1;
  const std::string req = sign_in_request(name, password);
  const int status = send_all(fd, req.data(), req.size()) ? read_status(fd) : 0;
  close(fd);
  return status;
}

// PARALLEL clients each announce BYTES and send the body as fast as they can until the answer comes.
int upload(int port, int pid, long long bytes, int parallel) {
  const long rss_before = rss_kib(pid);
  std::atomic<long> rss_peak{rss_before};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      rss_peak = std::max(rss_peak.load(), rss_kib(pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<double> answer_ms(static_cast<std::size_t>(parallel), -1);
  std::vector<int> statuses(static_cast<std::size_t>(parallel), 0);
  std::vector<long long> sent(static_cast<std::size_t>(parallel), 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < parallel; ++i) {
    clients.emplace_back([&, i] {
      const auto idx = static_cast<std::size_t>(i);
      const int fd = connect_from("127.0.0.1", port, 30000);
      if (fd < 0) return;
      const std::string header =
          "POST /api/v1/import/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
          "Content-Length: " +
          std::to_string(bytes) + "\r\n\r\n";
      const auto start = Clock::now();
      std::atomic<bool> answered{false};
      std::thread writer([&] {
        std::vector<char> block(64 * 1024, 'x');
        if (!send_all(fd, header.data(), header.size())) return;
        while (!answered && sent[idx] < bytes) {
          const auto n =
              static_cast<std::size_t>(std::min<long long>(static_cast<long long>(block.size()), bytes - sent[idx]));
          if (!send_all(fd, block.data(), n)) return;
          sent[idx] += static_cast<long long>(n);
        }
      });
      statuses[idx] = read_status(fd);
      answer_ms[idx] = ms_since(start);
      answered = true;
      shutdown(fd, SHUT_RDWR);
      writer.join();
      close(fd);
    });
  }
  for (auto& c : clients) c.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  sampling = false;
  sampler.join();
  const long rss_after = rss_kib(pid);
  std::printf(
      "{\"scenario\":\"upload\",\"bytes\":%lld,\"parallel\":%d,\"rss_before_kib\":%ld,\"rss_peak_kib\":%ld,"
      "\"rss_after_kib\":%ld,\"answers\":[",
      bytes, parallel, rss_before, rss_peak.load(), rss_after);
  for (std::size_t i = 0; i < answer_ms.size(); ++i) {
    std::printf("%s{\"status\":%d,\"ms\":%.1f,\"body_bytes_sent\":%lld}", i ? "," : "", statuses[i], answer_ms[i],
                sent[i]);
  }
  std::printf("]}\n");
  return 0;
}

int flood(int port, int idle, const std::string& name, const std::string& password) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  std::vector<int> fds;
  int opened = 0;
  for (int i = 0; i < idle; ++i) {
    const int fd = connect_from("127.0.0.1", port, 1000);
    if (fd < 0) continue;
    ++opened;
    fds.push_back(fd);
  }
  // Held (not closed by the server) after a moment: the server closes those over its per-address limit.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int held = 0;
  for (const int fd : fds) {
    char c = 0;
    const ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ++held;
  }
  const auto start = Clock::now();
  const int status = sign_in("127.0.0.2", port, name, password);
  const double took = ms_since(start);
  std::printf(
      "{\"scenario\":\"flood\",\"idle_connections_opened\":%d,\"held_by_server\":%d,\"sign_in_status\":%d,"
      "\"sign_in_ms\":%.1f}\n",
      opened, held, status, took);
  for (const int fd : fds) close(fd);
  return 0;
}

// An attacker at 127.0.0.2 fails TRIES sign-ins for NAME back to back (each answer waits out its delay); meanwhile
// the real user at 127.0.0.1 signs in with the right password every INTERVAL_MS (default 1000).
int lockout(int port, int tries, const std::string& name, const std::string& password, int interval_ms) {
  std::atomic<int> refused{0};
  std::atomic<int> failed{0};
  std::atomic<bool> attacking{true};
  std::thread attacker([&] {
    for (int i = 0; i < tries; ++i) {
      const int status = sign_in("127.0.0.2", port, name, "wrong-guess-" + std::to_string(i));
      refused += status == 429 ? 1 : 0;
      failed += status == 401 ? 1 : 0;
    }
    attacking = false;
  });
  int user_ok = 0;
  int user_tries = 0;
  std::string user_statuses;
  double worst_ms = 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the attacker's first failure is in
  while (attacking) {
    const auto start = Clock::now();
    const int status = sign_in("127.0.0.1", port, name, password);
    worst_ms = std::max(worst_ms, ms_since(start));
    ++user_tries;
    user_ok += status == 200 ? 1 : 0;
    user_statuses += (user_statuses.empty() ? "" : ",") + std::to_string(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  attacker.join();
  std::printf(
      "{\"scenario\":\"lockout\",\"attacker_401\":%d,\"attacker_429\":%d,\"user_tries\":%d,\"user_200\":%d,"
      "\"user_statuses\":[%s],\"user_worst_ms\":%.1f}\n",
      failed.load(), refused.load(), user_tries, user_ok, user_statuses.c_str(), worst_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "upload" && argc == 6)
    return upload(std::atoi(argv[2]), std::atoi(argv[3]), std::atoll(argv[4]), std::atoi(argv[5]));
  if (what == "flood" && argc == 6) return flood(std::atoi(argv[2]), std::atoi(argv[3]), argv[4], argv[5]);
  if (what == "lockout" && (argc == 6 || argc == 7)) {
    return lockout(std::atoi(argv[2]), std::atoi(argv[3]), argv[4], argv[5], argc == 7 ? std::atoi(argv[6]) : 1000);
  }
  std::fprintf(stderr,
               "usage: http_load upload PORT PID BYTES PARALLEL | flood PORT IDLE NAME PASSWORD | "
               "lockout PORT TRIES NAME PASSWORD [INTERVAL_MS]\n");
  return 2;
}
