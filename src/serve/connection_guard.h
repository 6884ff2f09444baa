// Per-connection deadlines and caps for a cpp-httplib 0.11 server, which has
// neither: a connection that trickles its request headers holds a worker for
// as long as it keeps sending a byte within the per-read timeout, so a few
// dozen such clients starve every other request.
//
// The guard learns each accepted socket when the server hands it to the task
// queue (the listener thread enqueues right after accept()), recognising it by
// its local port and peer address. Requests are tied to their connection by
// the peer address cpp-httplib reports. A watchdog shuts down a connection
// whose headers have not all arrived within the deadline (timed from accept or
// from the end of the previous response on a kept-alive connection), and new
// connections beyond the per-client or total cap are shut down at once.
// Private header: cpp-httplib inside.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

namespace scrim::serve {

struct ConnectionLimits {
  double header_timeout_s = 10;  // request line and headers, in total
  int max_per_client = 64;       // open connections from one address
  int max_total = 1024;          // open connections in all
};

class ConnectionGuard {
 public:
  explicit ConnectionGuard(ConnectionLimits limits);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // Call after binding, before listening; installs the task queue, the
  // pre-routing hook and the logger on `server` (the server's own logger, if
  // any, must be installed through `also_log`).
  void attach(httplib::Server& server, int listen_port, size_t worker_threads, httplib::Logger also_log = nullptr);

  int open_connections();

 private:
  struct Connection {
    int fd = -1;
    std::string address;  // peer IP
    bool awaiting_headers = true;
    std::chrono::steady_clock::time_point since;
  };
  class Queue;

  void register_new_connections();
  void headers_received(const std::string& peer);
  void response_sent(const std::string& peer);
  void watch();
  bool still_same(const std::string& peer, const Connection& c) const;

  ConnectionLimits limits_;
  int port_ = 0;
  std::mutex m_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::map<std::string, Connection> by_peer_;  // "ip:port" of the client
  std::thread watchdog_;
};

}  // namespace scrim::serve
