#include "serve/connection_guard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>

#include <spdlog/spdlog.h>

namespace scrim::serve {
namespace {

// "ip:port" of a socket's peer (or local end); empty when it has none.
std::string endpoint(int fd, bool peer, int* port_out = nullptr) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (rc != 0) return "";
  if (a.ss_family != AF_INET && a.ss_family != AF_INET6) return "";
  // Formatted as cpp-httplib formats Request::remote_addr, so the two match.
  char ip[NI_MAXHOST] = {0};
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&a), len, ip, sizeof(ip), nullptr, 0, NI_NUMERICHOST) != 0) return "";
  int port = a.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port) : ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  if (port_out) *port_out = port;
  return std::string(ip) + ":" + std::to_string(port);
}

std::string address_of(const std::string& peer) { return peer.substr(0, peer.rfind(':')); }

}  // namespace

// Runs connections on a thread pool, telling the guard each time the listener
// hands one over (the moment right after accept()).
class ConnectionGuard::Queue : public httplib::TaskQueue {
 public:
  Queue(ConnectionGuard& guard, size_t threads) : guard_(guard), pool_(threads) {}
  void enqueue(std::function<void()> fn) override {
    guard_.register_new_connections();
    pool_.enqueue(std::move(fn));
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  ConnectionGuard& guard_;
  httplib::ThreadPool pool_;
};

ConnectionGuard::ConnectionGuard(ConnectionLimits limits) : limits_(limits), watchdog_([this] { watch(); }) {}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  watchdog_.join();
}

void ConnectionGuard::attach(httplib::Server& server, int listen_port, size_t worker_threads, httplib::Logger also_log) {
  port_ = listen_port;
  server.new_task_queue = [this, worker_threads] { return new Queue(*this, worker_threads); };
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    headers_received(req.remote_addr + ":" + std::to_string(req.remote_port));
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([this, also_log](const httplib::Request& req, const httplib::Response& res) {
    response_sent(req.remote_addr + ":" + std::to_string(req.remote_port));
    if (also_log) also_log(req, res);
  });
}

int ConnectionGuard::open_connections() {
  std::lock_guard lock(m_);
  return static_cast<int>(by_peer_.size());
}

// Finds the sockets accepted on our port that the guard does not know yet.
// The process's descriptors are few (hundreds), so a scan costs well under a millisecond.
void ConnectionGuard::register_new_connections() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(m_);
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || fd == ::dirfd(dir)) continue;
    struct stat st {};
    if (::fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int local_port = 0, listening = 0;
    socklen_t len = sizeof(listening);
    if (endpoint(static_cast<int>(fd), false, &local_port).empty() || local_port != port_) continue;
    if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening) continue;
    std::string peer = endpoint(static_cast<int>(fd), true);
    if (peer.empty() || by_peer_.count(peer)) continue;
    Connection c{static_cast<int>(fd), address_of(peer), true, now};
    int same_client = 0;
    for (const auto& [_, other] : by_peer_) same_client += other.address == c.address;
    if (same_client >= limits_.max_per_client || static_cast<int>(by_peer_.size()) >= limits_.max_total) {
      spdlog::warn("serve: connection from {} refused: {} open from that address, {} in all", c.address, same_client, by_peer_.size());
      ::shutdown(c.fd, SHUT_RDWR);  // the worker then reads EOF and closes it
      continue;
    }
    by_peer_.emplace(peer, c);
  }
  ::closedir(dir);
}

void ConnectionGuard::headers_received(const std::string& peer) {
  {
    std::lock_guard lock(m_);
    auto it = by_peer_.find(peer);
    if (it != by_peer_.end()) {
      it->second.awaiting_headers = false;
      return;
    }
  }
  register_new_connections();  // not seen yet: never leave a connection that is past its headers on the clock
  std::lock_guard lock(m_);
  auto it = by_peer_.find(peer);
  if (it != by_peer_.end()) it->second.awaiting_headers = false;
}

void ConnectionGuard::response_sent(const std::string& peer) {
  std::lock_guard lock(m_);
  auto it = by_peer_.find(peer);
  if (it == by_peer_.end()) return;
  it->second.awaiting_headers = true;  // a kept-alive connection: the next request's headers are timed from now
  it->second.since = std::chrono::steady_clock::now();
}

bool ConnectionGuard::still_same(const std::string& peer, const Connection& c) const {
  int local_port = 0;
  return endpoint(c.fd, true) == peer && !endpoint(c.fd, false, &local_port).empty() && local_port == port_;
}

void ConnectionGuard::watch() {
  auto deadline = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(limits_.header_timeout_s));
  std::unique_lock lock(m_);
  while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) {
    auto now = std::chrono::steady_clock::now();
    for (auto it = by_peer_.begin(); it != by_peer_.end();) {
      // Closed (its descriptor gone or reused by another socket): forget it.
      if (!still_same(it->first, it->second)) {
        it = by_peer_.erase(it);
        continue;
      }
      if (it->second.awaiting_headers && now - it->second.since > deadline) {
        spdlog::warn("serve: {} sent no complete request headers within {} s; closing", it->first, limits_.header_timeout_s);
        ::shutdown(it->second.fd, SHUT_RDWR);
        it = by_peer_.erase(it);
        continue;
      }
      ++it;
    }
  }
}

}  // namespace scrim::serve
