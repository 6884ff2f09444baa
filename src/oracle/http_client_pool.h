// Kept-alive HTTP clients to one origin, shared by the HTTP oracle and the
// privacy proxy. A request borrows a client and gives it back for reuse only
// after a clean exchange, so a run of requests reuses its TCP (and TLS)
// connections instead of opening one each; a client whose exchange failed is
// dropped. Private header: cpp-httplib inside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <httplib.h>

namespace scrim {

struct HttpClientSettings {
  double connect_timeout_s = 10;
  double read_timeout_s = 120;
  double write_timeout_s = 120;
  bool keep_alive = true;  // false: every request on a new connection
};

class HttpClientPool {
 public:
  // max_in_use: clients borrowed at once, borrow() waits beyond it (0: no bound).
  // max_idle: clients kept for reuse; more given back are closed.
  HttpClientPool(std::string origin, HttpClientSettings settings, int max_in_use = 0, size_t max_idle = 64);
  ~HttpClientPool();

  // One borrowed client. Its destructor gives it back: for reuse after
  // mark_sound(), else closed. A lease may outlive the pool (a detached
  // streaming thread), so it holds the pool's state, not the pool.
  class Lease {
   public:
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    httplib::Client* operator->() const { return client_.get(); }
    httplib::Client& operator*() const { return *client_; }
    void mark_sound() { sound_ = true; }  // a complete HTTP exchange: the connection may be reused
    bool reused() const { return reused_; }

   private:
    friend class HttpClientPool;
    struct State;
    Lease(std::shared_ptr<State> state, std::unique_ptr<httplib::Client> client, bool reused);
    std::shared_ptr<State> state_;
    std::unique_ptr<httplib::Client> client_;
    bool reused_ = false, sound_ = false;
  };

  Lease borrow();
  const std::string& origin() const;
  int64_t clients_created() const;  // clients opened so far (each keeps its connection alive)
  size_t idle() const;                 // clients waiting for reuse

 private:
  std::shared_ptr<Lease::State> state_;
};

}  // namespace scrim
