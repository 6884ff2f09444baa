// Real loopback endpoints that never finish an answer: the slowest services
// an MLLM client can meet.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace scrim::testing {

// Accepts TCP connections (the kernel completes the handshake from its
// backlog) and never reads or answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    bool ok = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 64) == 0 &&
              ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    EXPECT_TRUE(ok) << "cannot listen on loopback";
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  int port() const { return port_; }
  int fd() const { return fd_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Accepts one connection at a time and answers with a status line, then one
// header byte every 100 ms for 8 s: no single read ever times out.
class TricklingServer {
 public:
  TricklingServer() {
    thread_ = std::thread([this] {
      while (!stop_) {
        int c = ::accept(silent_fd(), nullptr, nullptr);
        if (c < 0) return;
        std::string head = "HTTP/1.1 200 OK\r\nX-Slow: ";
        bool open = ::send(c, head.data(), head.size(), MSG_NOSIGNAL) > 0;
        for (int sent = 0; open && !stop_ && sent < 80; ++sent) {  // then closes, after 8 s
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          open = ::send(c, "x", 1, MSG_NOSIGNAL) == 1;
        }
        ::close(c);
      }
    });
  }
  ~TricklingServer() {
    stop_ = true;
    ::shutdown(silent_fd(), SHUT_RDWR);  // wakes accept()
    thread_.join();
  }
  std::string base_url() const { return listener_.base_url(); }

 private:
  int silent_fd() const { return listener_.fd(); }
  SilentServer listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace scrim::testing
