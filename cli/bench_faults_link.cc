// The cuttable relay: one poll() loop over the listening socket and both ends of every relayed connection.
#include "cli/bench_faults_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace wattguard::cli {
namespace {

// Each direction copies at most this much per wake-up: MQTT packets of ours are far smaller.
constexpr std::size_t kCopyBytes = 64 * 1024;

void close_with_reset(int fd) {
  // Linger 0: the peer sees a reset, as when a router between them drops the connection state.
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies what is readable on `from` to `to` (blocking write: loopback, small packets). False at the end of
// either side.
bool copy_once(int from, int to) {
  char buf[kCopyBytes];
  const ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  ssize_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += w;
  }
  return true;
}

}  // namespace

Expected<std::unique_ptr<FaultLink>> FaultLink::open(uint16_t upstream_port) {
  std::unique_ptr<FaultLink> link(new FaultLink());
  link->upstream_port_ = upstream_port;
  link->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (link->listen_fd_ < 0) return Error::io(std::string("fault link socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(link->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(link->listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(link->listen_fd_, 64) != 0 ||
      ::getsockname(link->listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return Error::io(std::string("fault link listen: ") + std::strerror(errno));
  }
  link->port_ = ntohs(a.sin_port);
  link->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (link->wake_fd_ < 0) return Error::io(std::string("fault link eventfd: ") + std::strerror(errno));
  link->thread_ = std::thread([l = link.get()] { l->run(); });
  return link;
}

FaultLink::~FaultLink() {
  stop_ = true;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void FaultLink::set_cut(bool cut) {
  cut_ = cut;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void FaultLink::run() {
  struct Pair {
    int client = -1;
    int upstream = -1;
  };
  std::vector<Pair> pairs;
  auto drop = [](Pair& p) {
    close_with_reset(p.client);
    close_with_reset(p.upstream);
    p.client = p.upstream = -1;
  };
  std::vector<pollfd> fds;
  while (!stop_) {
    if (cut_) {
      for (Pair& p : pairs) drop(p);
      pairs.clear();
    }
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) {
      uint64_t n = 0;
      (void)!::read(wake_fd_, &n, sizeof n);
      continue;  // look at cut_ / stop_ first
    }
    if (fds[1].revents & POLLIN) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int upstream = cut_ ? -1 : connect_loopback(upstream_port_);
        if (upstream < 0) {
          close_with_reset(client);
        } else {
          pairs.push_back({client, upstream});
          ++relayed_;
        }
      }
    }
    for (std::size_t k = 0; k + 2 < fds.size(); k += 2) {
      Pair& p = pairs[k / 2];
      const pollfd& c = fds[k + 2];
      const pollfd& u = fds[k + 3];
      bool alive = true;
      if (c.revents != 0) alive = copy_once(p.client, p.upstream);
      if (alive && u.revents != 0) alive = copy_once(p.upstream, p.client);
      if (!alive) drop(p);
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client < 0; });
  }
  for (Pair& p : pairs) drop(p);
}

}  // namespace wattguard::cli
