// Which key scrim sends where: SCRIM_API_KEY to the endpoint the user named,
// OPENAI_API_KEY to OpenAI's own API only, no key in clear text off this
// machine, no credentials inside URLs. Checked on the wire with a real server.
#include <cstdlib>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <opencv2/core.hpp>

#include "scrim/core/error.h"
#include "scrim/reference/oracle_factory.h"

namespace scrim {
namespace {

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// Returns the Authorization header a real loopback endpoint received for one query.
std::string authorization_seen(const std::string& host_in_url) {
  httplib::Server server;
  std::mutex m;
  std::string seen = "<no request>";
  server.Post("/v1/chat/completions", [&](const httplib::Request& q, httplib::Response& r) {
    std::lock_guard lock(m);
    seen = q.get_header_value("Authorization");
    r.set_content(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"two"},"finish_reason":"stop"}]})", "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  auto stack = make_oracle("openai:http://" + host_in_url + ":" + std::to_string(port) + "/v1#m");
  stack.oracle->query({{cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3))}, "how many?", {}});
  server.stop();
  t.join();
  std::lock_guard lock(m);
  return seen;
}

}  // namespace

TEST(ApiKeyPolicy, OpenAiKeyGoesToOpenAiOnlyAndNoKeyTravelsInClearText) {
  {
    ScopedEnv scrim("SCRIM_API_KEY", nullptr), openai("OPENAI_API_KEY", "sk-openai");
    EXPECT_EQ(authorization_seen("127.0.0.1"), "");  // not OpenAI's host: its key stays home
  }
  {
    ScopedEnv scrim("SCRIM_API_KEY", "sk-local"), openai("OPENAI_API_KEY", "sk-openai");
    EXPECT_EQ(authorization_seen("127.0.0.1"), "Bearer sk-local");  // loopback over http is fine
    EXPECT_THROW(make_oracle("openai:http://10.0.0.8:8000/v1#m"), UsageError);  // clear text across a network
    EXPECT_NO_THROW(make_oracle("openai:https://10.0.0.8:8000/v1#m"));
  }
  EXPECT_THROW(make_oracle("openai:https://user:secret@api.example.com/v1#m"), UsageError);
}

}  // namespace scrim
