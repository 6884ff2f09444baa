#include "oracle/http_client_pool.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace scrim {

struct HttpClientPool::Lease::State {
  std::string origin;
  HttpClientSettings settings;
  int max_in_use = 0;
  size_t max_idle = 0;
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::unique_ptr<httplib::Client>> idle;
  int in_use = 0;
  int64_t opened = 0;

  std::unique_ptr<httplib::Client> open() {
    auto c = std::make_unique<httplib::Client>(origin);
    auto us = [](double s) { return std::chrono::microseconds(static_cast<int64_t>(s * 1e6)); };
    c->set_connection_timeout(us(settings.connect_timeout_s));
    c->set_read_timeout(us(settings.read_timeout_s));
    c->set_write_timeout(us(settings.write_timeout_s));
    c->set_keep_alive(settings.keep_alive);
    c->set_tcp_nodelay(true);  // else Nagle holds the body behind the headers on a reused connection
    return c;
  }

  void give_back(std::unique_ptr<httplib::Client> c) {
    std::unique_ptr<httplib::Client> closing;  // closed outside the lock
    {
      std::lock_guard lock(m);
      --in_use;
      if (c && settings.keep_alive && idle.size() < max_idle) idle.push_back(std::move(c));
      else closing = std::move(c);
    }
    cv.notify_one();
  }
};

HttpClientPool::HttpClientPool(std::string origin, HttpClientSettings settings, int max_in_use, size_t max_idle)
    : state_(std::make_shared<Lease::State>()) {
  state_->origin = std::move(origin);
  state_->settings = settings;
  state_->max_in_use = max_in_use;
  state_->max_idle = max_idle;
}

HttpClientPool::~HttpClientPool() = default;

HttpClientPool::Lease HttpClientPool::borrow() {
  auto& s = *state_;
  std::unique_lock lock(s.m);
  s.cv.wait(lock, [&] { return s.max_in_use <= 0 || s.in_use < s.max_in_use; });
  ++s.in_use;
  if (!s.idle.empty()) {
    auto c = std::move(s.idle.back());
    s.idle.pop_back();
    return Lease(state_, std::move(c), true);
  }
  ++s.opened;
  lock.unlock();
  return Lease(state_, s.open(), false);
}

const std::string& HttpClientPool::origin() const { return state_->origin; }

int64_t HttpClientPool::clients_created() const {
  std::lock_guard lock(state_->m);
  return state_->opened;
}

size_t HttpClientPool::idle() const {
  std::lock_guard lock(state_->m);
  return state_->idle.size();
}

HttpClientPool::Lease::Lease(std::shared_ptr<State> state, std::unique_ptr<httplib::Client> client, bool reused)
    : state_(std::move(state)), client_(std::move(client)), reused_(reused) {}

HttpClientPool::Lease::Lease(Lease&& o) noexcept
    : state_(std::move(o.state_)), client_(std::move(o.client_)), reused_(o.reused_), sound_(o.sound_) {}

HttpClientPool::Lease::~Lease() {
  if (state_) state_->give_back(sound_ ? std::move(client_) : nullptr);
}

}  // namespace scrim
