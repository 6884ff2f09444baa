// The HTTP backend and the decorators against the real `reference serve`
// server on loopback (OracleServer around the tiny reference model).
#include "scrim/oracle/http_oracle.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "reference/reference_fixture.h"
#include "oracle/slow_servers.h"
#include "scrim/core/base64.h"
#include "scrim/oracle/budget_oracle.h"
#include "scrim/oracle/cached_oracle.h"
#include "scrim/oracle/faulty_oracle.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/oracle/oracle_error.h"
#include "scrim/reference/oracle_factory.h"
#include "scrim/oracle/rate_limited_oracle.h"
#include "scrim/oracle/retrying_oracle.h"
#include "scrim/serve/oracle_server.h"
#include "test_util.h"

using nlohmann::json;

namespace scrim {
namespace {

// A real server on a free loopback port, serving in a background thread.
struct LiveServer {
  std::unique_ptr<OracleServer> server;
  std::thread thread;
  explicit LiveServer(OracleServerOptions o = {}) {
    o.port = 0;
    o.model_name = "tiny";
    server = std::make_unique<OracleServer>(testing::TinyReference::get().model, o);
    server->bind();
    thread = std::thread([this] { server->serve(); });
  }
  ~LiveServer() {
    server->stop();
    thread.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(server->port()) + "/v1"; }
  std::shared_ptr<HttpOracle> client(double read_timeout = 30) const {
    HttpOracleOptions h;
    h.base_url = base();
    h.model = "tiny";
    h.api_key = "sk-test-secret-key";
    h.read_timeout_s = read_timeout;
    return std::make_shared<HttpOracle>(h);
  }
};

OracleRequest question(int image = 0) {
  OracleRequest r{{testing::TinyReference::get().image(image)}, "What color is the shirt of the person in the middle? Answer with a single word or number.", {}};
  r.options.top_logprobs = 3;
  return r;
}

std::vector<double> recorded_delays;
RetryOptions recording_retry(int retries = 3) {
  RetryOptions r;
  r.max_retries = retries;
  r.base_delay_s = 0.01;
  r.seed = 7;
  r.sleep = [](double s) { recorded_delays.push_back(s); };
  return r;
}

}  // namespace

TEST(HttpOracle, MatchesTheInProcessModelOverLoopback) {
  LiveServer live;
  auto local = testing::TinyReference::get().model->query(question());
  auto remote = live.client()->query(question());
  EXPECT_EQ(remote.text, local.text);
  ASSERT_EQ(remote.logprobs.size(), 1u);
  EXPECT_NEAR(remote.logprobs[0].logprob, local.logprobs[0].logprob, 1e-6);
  EXPECT_EQ(remote.logprobs[0].top.size(), 3u);
  EXPECT_GT(remote.usage.prompt_tokens, 0);
  EXPECT_EQ(live.server->completions(), 1);
}

TEST(OracleServer, ModelsHealthStreamingAndErrors) {
  OracleServerOptions o;
  o.max_body_bytes = 200000;
  LiveServer live(o);
  httplib::Client c("127.0.0.1", live.server->port());
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "tiny");

  // Streaming: SSE chunks that concatenate to the plain answer, then [DONE].
  auto body = openai::make_chat_request(question(), "tiny", true);
  auto streamed = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->status, 200);
  EXPECT_NE(streamed->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  std::string text;
  size_t pos = 0;
  int events = 0;
  bool done = false;
  while ((pos = streamed->body.find("data: ", pos)) != std::string::npos) {
    auto end = streamed->body.find("\n\n", pos);
    std::string payload = streamed->body.substr(pos + 6, end - pos - 6);
    pos = end;
    ++events;
    if (payload == "[DONE]") {
      done = true;
      break;
    }
    auto chunk = json::parse(payload);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    text += chunk["choices"][0]["delta"].value("content", "");
  }
  EXPECT_TRUE(done);
  EXPECT_GE(events, 3);
  EXPECT_EQ(text, testing::TinyReference::get().model->query(question()).text);

  auto expect_error = [&](const std::string& payload, int status, const std::string& fragment) {
    auto r = c.Post("/v1/chat/completions", payload, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << payload.substr(0, 100);
    auto j = json::parse(r->body);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(fragment), std::string::npos) << r->body;
  };
  expect_error("{not json", 400, "not valid JSON");
  expect_error(R"({"model": "tiny", "messages": [{"role": "user", "content": "no image here"}]})", 400, "at least one image");
  expect_error(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}]}]})", 400,
               "invalid base64");
  auto png = encode_image(testing::TinyReference::get().image(0), ImageFormat::kPng);
  png.resize(png.size() / 2);
  expect_error(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,)" +
                   base64_encode(png) + R"("}}]}]})",
               400, "truncated PNG");
  expect_error(std::string(300000, ' '), 413, "too large");
  auto missing = c.Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body).contains("error"));
}

TEST(HttpOracle, RetriesRateLimitsAndServerErrorsHonouringRetryAfter) {
  OracleServerOptions o;
  o.fault_schedule = {Fault::kRateLimited, Fault::kServerError, Fault::kMalformedJson, Fault::kTruncatedBody};
  o.fault_retry_after_s = 2;
  LiveServer live(o);
  recorded_delays.clear();
  RetryingOracle retrying(live.client(), recording_retry(5));
  auto reply = retrying.query(question());
  EXPECT_FALSE(reply.text.empty());
  EXPECT_EQ(retrying.retries(), 4);
  ASSERT_EQ(recorded_delays.size(), 4u);
  EXPECT_DOUBLE_EQ(recorded_delays[0], 2.0);  // the server's Retry-After
  EXPECT_GT(recorded_delays[1], 0.0);         // back-off with jitter
  EXPECT_LE(recorded_delays[1], 0.02 + 1e-9);
}

TEST(HttpOracle, GivesUpAfterMaxRetriesAndNeverRetriesQuota) {
  OracleServerOptions o;
  o.fault_schedule = {Fault::kServerError, Fault::kServerError, Fault::kServerError};
  LiveServer live(o);
  recorded_delays.clear();
  RetryingOracle retrying(live.client(), recording_retry(1));
  try {
    retrying.query(question());
    FAIL();
  } catch (const OracleError& e) {
    EXPECT_EQ(e.status(), 500);
    EXPECT_NE(std::string(e.what()).find("HTTP 500"), std::string::npos);
  }
  EXPECT_EQ(recorded_delays.size(), 1u);

  OracleError quota(OracleError::Kind::kQuota, "insufficient_quota", 429);
  EXPECT_FALSE(quota.retryable());
  EXPECT_TRUE(OracleError(OracleError::Kind::kHttp, "x", 409).retryable());
  EXPECT_FALSE(OracleError(OracleError::Kind::kHttp, "x", 400).retryable());
  EXPECT_DOUBLE_EQ(parse_retry_after("7", ""), 7.0);
  EXPECT_DOUBLE_EQ(parse_retry_after("7", "1500"), 1.5);
  EXPECT_DOUBLE_EQ(parse_retry_after("3600", ""), 120.0);
  EXPECT_DOUBLE_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", ""), -1.0);
}

TEST(HttpOracle, ReadTimeoutAndDeadServer) {
  OracleServerOptions o;
  o.fault_schedule = {Fault::kTimeout};
  o.fault_delay_s = 2.0;
  LiveServer live(o);
  try {
    live.client(0.5)->query(question());
    FAIL();
  } catch (const OracleError& e) {
    EXPECT_EQ(e.kind(), OracleError::Kind::kTimeout);
  }
  HttpOracleOptions dead;
  dead.base_url = "http://127.0.0.1:9/v1";  // discard port: nothing listens
  dead.model = "m";
  dead.connect_timeout_s = 1;
  try {
    HttpOracle(dead).query(question());
    FAIL();
  } catch (const OracleError& e) {
    EXPECT_EQ(e.kind(), OracleError::Kind::kConnection);
    EXPECT_TRUE(e.retryable());
  }
}

TEST(RetryingOracle, TheDeadlineBoundsTheWholeCallAgainstASilentServer) {
  testing::SilentServer silent;
  HttpOracleOptions h;
  h.base_url = silent.base_url();
  h.model = "m";
  h.read_timeout_s = 3;  // per read: without a deadline, 6 attempts of 3 s and their back-off
  RetryOptions r;
  r.max_retries = 5;
  r.base_delay_s = 0.05;
  r.deadline_s = 1.5;
  RetryingOracle retrying(std::make_shared<HttpOracle>(h), r);
  OracleRequest request = question();  // trains the tiny reference model on first use: not timed
  auto start = std::chrono::steady_clock::now();
  try {
    retrying.query(request);
    FAIL() << "a silent server answered";
  } catch (const OracleError& e) {
    EXPECT_EQ(e.kind(), OracleError::Kind::kTimeout);
    EXPECT_NE(std::string(e.what()).find("deadline of 1.5 s"), std::string::npos) << e.what();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(s, 1.4);
  EXPECT_LT(s, 2.5);
}

TEST(RetryingOracle, TheDeadlineCutsAServerThatTricklesItsAnswer) {
  testing::TricklingServer trickling;
  HttpOracleOptions h;
  h.base_url = trickling.base_url();
  h.model = "m";
  h.read_timeout_s = 3;  // never reached: a byte comes every 100 ms
  RetryOptions r;
  r.max_retries = 0;
  r.deadline_s = 1.0;
  RetryingOracle retrying(std::make_shared<HttpOracle>(h), r);
  OracleRequest request = question();
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(retrying.query(request), OracleError);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(s, 0.9);
  EXPECT_LT(s, 2.0);
}

TEST(RetryingOracle, TheDeadlineBoundsTheRateLimitersWait) {
  RetryOptions r;
  r.deadline_s = 0.3;
  auto limited = std::make_shared<RateLimitedOracle>(testing::TinyReference::get().model, 0.1, 0);  // one query per 10 s
  RetryingOracle retrying(limited, r);
  OracleRequest request = question();
  retrying.query(request);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(retrying.query(request), OracleError);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(s, 1.0);
}

TEST(CachedOracle, HitsPersistAndTheKeyNeverLands) {
  testing::ScratchDir d;
  LiveServer live;
  std::string first;
  {
    CachedOracle cache(live.client(), d / "cache.sqlite");
    auto a = cache.query(question());
    auto b = cache.query(question());
    EXPECT_FALSE(a.from_cache);
    EXPECT_TRUE(b.from_cache);
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(cache.hits(), 1);
    EXPECT_EQ(cache.misses(), 1);
    first = a.text;
  }
  // A new process (a new connection) finds the reply without asking the server.
  CachedOracle reopened(live.client(), d / "cache.sqlite");
  auto c = reopened.query(question());
  EXPECT_TRUE(c.from_cache);
  EXPECT_EQ(c.text, first);
  EXPECT_EQ(live.server->completions(), 1);
  // A different image is a different key.
  EXPECT_FALSE(reopened.query(question(1)).from_cache);
  // Concurrent queries through one cache.
  std::vector<OracleRequest> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(question(i % 4));
  auto replies = query_batch(reopened, batch, 4);
  EXPECT_EQ(replies.size(), 8u);
  for (const char* f : {"cache.sqlite", "cache.sqlite-wal"}) {
    if (!std::filesystem::exists(d / f)) continue;
    EXPECT_EQ(testing::read_text(d / f).find("sk-test-secret-key"), std::string::npos) << f;
  }
  testing::write_text(d / "notdb.sqlite", std::string(4096, 'x'));
  EXPECT_THROW(CachedOracle(live.client(), d / "notdb.sqlite"), Error);
}

TEST(BudgetOracle, StopsAtTheLimitAndKeepsWhatWasDone) {
  auto model = testing::TinyReference::get().model;
  BudgetOptions b;
  b.max_queries = 2;
  auto budget = std::make_shared<BudgetOracle>(model, b);
  EXPECT_NO_THROW(budget->query(question(0)));
  EXPECT_NO_THROW(budget->query(question(1)));
  try {
    budget->query(question(2));
    FAIL();
  } catch (const OracleError& e) {
    EXPECT_EQ(e.kind(), OracleError::Kind::kBudget);
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_EQ(budget->usage().queries, 2);
  BudgetOptions tokens;
  tokens.max_tokens = 1;
  tokens.price_per_1k_prompt = 1.0;
  BudgetOracle by_tokens(model, tokens);
  by_tokens.query(question());
  EXPECT_GT(by_tokens.usage().cost, 0.0);
  EXPECT_THROW(by_tokens.query(question()), OracleError);
}

// Two processes' budgets drawing from one run-wide count (a data-parallel `scrim train`
// shares it through the store): together they send max_queries, not max_queries each.
TEST(BudgetOracle, ASharedCountIsOneBudgetForEveryone) {
  auto model = testing::TinyReference::get().model;
  auto count = std::make_shared<std::atomic<int64_t>>(0);
  BudgetOptions b;
  b.max_queries = 3;
  b.shared_queries = [count](int64_t n) { return count->fetch_add(n) + n; };
  BudgetOracle first(model, b), second(model, b);
  EXPECT_NO_THROW(first.query(question(0)));
  EXPECT_NO_THROW(second.query(question(1)));
  EXPECT_NO_THROW(second.query(question(2)));
  EXPECT_THROW(first.query(question(3)), OracleError);
  EXPECT_THROW(second.query(question(3)), OracleError);
  EXPECT_EQ(first.usage().queries + second.usage().queries, 3);
}

TEST(FaultyOracle, RetryRecoversFromEveryTransientFault) {
  auto model = testing::TinyReference::get().model;
  auto faulty = std::make_shared<FaultyOracle>(model, std::vector<Fault>{Fault::kTimeout, Fault::kRateLimited, Fault::kServerError,
                                                                          Fault::kMalformedJson, Fault::kTruncatedBody, Fault::kConnectionReset});
  recorded_delays.clear();
  RetryingOracle retrying(faulty, recording_retry(6));
  EXPECT_FALSE(retrying.query(question()).text.empty());
  EXPECT_EQ(faulty->calls(), 7);
  EXPECT_DOUBLE_EQ(recorded_delays[1], 1.0);  // Retry-After of the injected 429
}

TEST(RateLimitedOracle, SpacesQueries) {
  RateLimitedOracle limited(testing::TinyReference::get().model, 20.0, 0);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) limited.query(question());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(s, 0.19);  // 5 starts at 20/s: at least 4 gaps of 50 ms
}

TEST(OracleFactory, SpecsAndTheDecoratorStack) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  OracleStackOptions o;
  o.cache = d / "c.sqlite";
  o.budget.max_queries = 1;
  auto stack = make_oracle("reference:" + t.model_file.string(), o);
  stack.oracle->query(question());
  EXPECT_TRUE(stack.oracle->query(question()).from_cache);  // cached replies do not spend the budget
  EXPECT_THROW(stack.oracle->query(question(1)), OracleError);
  EXPECT_THROW(make_oracle("gpt4"), UsageError);
  EXPECT_THROW(make_oracle("openai:http://x/v1"), UsageError);
  EXPECT_THROW(make_oracle("reference:" + (d / "none.pt").string()), Error);
}

}  // namespace scrim

namespace scrim {

TEST(CachedOracle, SurvivesAKilledProcess) {
  testing::ScratchDir d;
  LiveServer live;
  std::vector<OracleRequest> requests = {question(0), question(1), question(2)};
  auto db = d / "killed.sqlite";
  pid_t pid = fork();
  if (pid == 0) {
    // The child answers through HTTP (no LibTorch work after fork), then dies
    // without running any destructor: no clean close of the database.
    CachedOracle cache(live.client(), db);
    for (const auto& r : requests) cache.query(r);
    raise(SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  int64_t served = live.server->completions();
  EXPECT_EQ(served, 3);
  CachedOracle reopened(live.client(), db);
  for (const auto& r : requests) EXPECT_TRUE(reopened.query(r).from_cache);
  EXPECT_EQ(live.server->completions(), served);
}

}  // namespace scrim

namespace scrim {

// The ranks of a distributed run open one new cache file at the same moment (measured: "database is locked" from
// setting up WAL mode, which SQLite refuses at once rather than wait when two connections would deadlock). Six
// processes released together on each of 60 new files: every one opens its cache.
TEST(CachedOracle, ProcessesOpeningOneNewCacheAtOnceAllOpenIt) {
  testing::ScratchDir d;
  constexpr int kProcesses = 6, kFiles = 60;
  int failed = 0;
  for (int f = 0; f < kFiles; ++f) {
    const auto db = d / ("shared-" + std::to_string(f) + ".sqlite");
    int release[2];
    ASSERT_EQ(pipe(release), 0);
    std::vector<pid_t> children;
    for (int k = 0; k < kProcesses; ++k) {
      pid_t pid = fork();
      if (pid == 0) {
        close(release[1]);
        char go;
        if (read(release[0], &go, 1) != 1) _exit(2);  // all wait for the parent's go
        try {
          CachedOracle cache(nullptr, db);
        } catch (const std::exception&) {
          _exit(1);
        }
        _exit(0);
      }
      children.push_back(pid);
    }
    close(release[0]);
    const std::string go(kProcesses, 'g');  // one byte each, written at once
    EXPECT_EQ(write(release[1], go.data(), go.size()), static_cast<ssize_t>(go.size()));
    close(release[1]);
    for (pid_t pid : children) {
      int status = 0;
      waitpid(pid, &status, 0);
      failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
  }
  EXPECT_EQ(failed, 0) << "of " << kProcesses * kFiles << " openings";
}

TEST(HttpOracle, KeepsConnectionsAliveAndReconnectsAfterTheServerClosesThem) {
  // A plain server that records the client port of every request: kept-alive
  // queries arrive on one connection; with keep_alive off, one each.
  std::mutex m;
  std::set<int> ports;
  int requests = 0;
  httplib::Server s;
  s.set_keep_alive_timeout(1);
  s.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(m);
    ports.insert(req.remote_port);
    ++requests;
    res.set_content(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"red"},"finish_reason":"stop"}]})",
                    "application/json");
  });
  int port = s.bind_to_any_port("127.0.0.1");
  std::thread t([&] { s.listen_after_bind(); });
  HttpOracleOptions h;
  h.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  h.model = "m";
  HttpOracle kept(h);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(kept.query(question()).text, "red");
  EXPECT_EQ(ports.size(), 1u);
  // The server drops the idle connection after 1 s; the next query reconnects.
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_EQ(kept.query(question()).text, "red");
  EXPECT_EQ(ports.size(), 2u);

  ports.clear();
  h.keep_alive = false;
  HttpOracle fresh(h);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fresh.query(question()).text, "red");
  EXPECT_EQ(ports.size(), 5u);
  EXPECT_EQ(requests, 11);
  s.stop();
  t.join();
}

}  // namespace scrim
