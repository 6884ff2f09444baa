#include "oracle/http_client_pool.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace scrim {
namespace {

// A real server on loopback that records the client port of every request.
struct PortServer {
  httplib::Server s;
  std::mutex m;
  std::set<int> ports;
  int port = 0;
  std::thread t;
  PortServer() {
    s.Get("/", [this](const httplib::Request& q, httplib::Response& r) {
      std::lock_guard lock(m);
      ports.insert(q.remote_port);
      r.set_content("ok", "text/plain");
    });
    port = s.bind_to_any_port("127.0.0.1");
    t = std::thread([this] { s.listen_after_bind(); });
  }
  ~PortServer() {
    s.stop();
    t.join();
  }
  size_t connections() {
    std::lock_guard lock(m);
    return ports.size();
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port); }
};

TEST(HttpClientPool, ReusesOnlyClientsWhoseExchangeWasSound) {
  PortServer server;
  HttpClientPool pool(server.origin(), {});
  for (int i = 0; i < 3; ++i) {
    auto c = pool.borrow();
    EXPECT_EQ(c.reused(), i > 0);
    ASSERT_TRUE(c->Get("/"));
    c.mark_sound();
  }
  EXPECT_EQ(pool.clients_created(), 1);
  EXPECT_EQ(server.connections(), 1u);
  {
    auto c = pool.borrow();  // not marked sound: closed when given back
    ASSERT_TRUE(c->Get("/"));
  }
  EXPECT_EQ(pool.idle(), 0u);
  auto c = pool.borrow();
  EXPECT_FALSE(c.reused());
  EXPECT_EQ(pool.clients_created(), 2);
}

TEST(HttpClientPool, BoundsTheClientsInUse) {
  PortServer server;
  HttpClientPool pool(server.origin(), {}, /*max_in_use=*/1);
  std::atomic<bool> second_got_one{false};
  std::thread t;
  {
    auto first = pool.borrow();
    t = std::thread([&] {
      auto second = pool.borrow();
      second_got_one = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(second_got_one);
  }
  t.join();
  EXPECT_TRUE(second_got_one);
}

TEST(HttpClientPool, ALeaseMayOutliveItsPool) {
  PortServer server;
  std::optional<HttpClientPool::Lease> lease;
  {
    HttpClientPool pool(server.origin(), {});
    lease.emplace(pool.borrow());
  }
  ASSERT_TRUE((*lease)->Get("/"));
  lease->mark_sound();
  lease.reset();  // gives back to the pool's state, which the lease kept alive
}

}  // namespace
}  // namespace scrim
