#include "serve/http_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace scrim {
namespace {

// Connects `n` non-blocking sockets to 127.0.0.1:port; returns how many
// finished their handshake within `wait_ms` each.
int connect_burst(int port, int n, int wait_ms) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS
    fds.push_back(fd);
  }
  int connected = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    int err = -1;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, wait_ms) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) ++connected;
    ::close(fd);
  }
  return connected;
}

}  // namespace

TEST(HttpCommon, ABoundServerQueuesABurstOfConnections) {
  httplib::Server server;
  int port = serve::bind_server(server, "127.0.0.1", 0);
  // Nothing accepts yet, so the kernel completes only as many handshakes as the
  // listen backlog holds; with cpp-httplib's own backlog (5) the rest would
  // have their SYNs dropped and wait 1 s to retry.
  EXPECT_EQ(connect_burst(port, 32, 300), 32);
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.stop();
  serving.join();
}

}  // namespace scrim
