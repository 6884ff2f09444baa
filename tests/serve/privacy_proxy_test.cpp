// The privacy proxy end to end on loopback: client -> scrim proxy -> the real
// reference server. The upstream records the images it decoded, so the tests
// assert on exactly what left the proxy.
#include "scrim/serve/privacy_proxy.h"

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <opencv2/core.hpp>

#include "oracle/reference_fixture.h"
#include "scrim/core/base64.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/privacy/protector.h"
#include "scrim/serve/oracle_server.h"
#include "test_util.h"

using nlohmann::json;

namespace scrim {
namespace {

// Wraps the real model and keeps a copy of every image the upstream server decoded.
class RecordingOracle : public Oracle {
 public:
  explicit RecordingOracle(std::shared_ptr<Oracle> inner) : inner_(std::move(inner)) {}
  OracleReply query(const OracleRequest& r) override {
    {
      std::lock_guard lock(m_);
      for (const auto& img : r.images) seen_.push_back(img.clone());
    }
    return inner_->query(r);
  }
  std::string model_id() const override { return inner_->model_id(); }
  std::vector<cv::Mat> seen() {
    std::lock_guard lock(m_);
    return seen_;
  }

 private:
  std::shared_ptr<Oracle> inner_;
  std::mutex m_;
  std::vector<cv::Mat> seen_;
};

struct Stack {
  std::shared_ptr<RecordingOracle> recorder;
  std::unique_ptr<OracleServer> upstream;
  std::unique_ptr<PrivacyProxy> proxy;
  std::thread up_thread, proxy_thread;

  explicit Stack(ProxyOptions po = {}, OracleServerOptions uo = {}, bool start_upstream = true) {
    recorder = std::make_shared<RecordingOracle>(testing::TinyReference::get().model);
    uo.port = 0;
    uo.model_name = "tiny";
    upstream = std::make_unique<OracleServer>(recorder, uo);
    upstream->bind();
    if (start_upstream) up_thread = std::thread([this] { upstream->serve(); });
    po.port = 0;
    if (po.upstream.empty()) po.upstream = "http://127.0.0.1:" + std::to_string(upstream->port()) + "/v1";
    if (po.protector == ProxyOptions{}.protector) po.protector = "pixelate:block=8";
    proxy = std::make_unique<PrivacyProxy>(po);
    proxy->bind();
    proxy_thread = std::thread([this] { proxy->serve(); });
  }
  ~Stack() {
    proxy->stop();
    proxy_thread.join();
    proxy.reset();  // closes its kept-alive upstream connections, which the upstream's stop() would wait out
    upstream->stop();
    if (up_thread.joinable()) up_thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", proxy->port());
    c.set_read_timeout(30, 0);
    return c;
  }
};

std::string png_url(const cv::Mat& img) { return openai::data_url(encode_image(img, ImageFormat::kPng), "image/png"); }

json chat(const std::vector<std::string>& urls, bool stream = false) {
  json content = json::array({{{"type", "text"}, {"text", "How many people are there? Answer with a single word or number."}}});
  for (const auto& u : urls) content.push_back({{"type", "image_url"}, {"image_url", {{"url", u}}}});
  return {{"model", "tiny"}, {"stream", stream}, {"logprobs", true}, {"top_logprobs", 2}, {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
}

void expect_error(const httplib::Result& r, int status, const std::string& fragment) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  auto j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find(fragment), std::string::npos) << r->body;
}

}  // namespace

TEST(PrivacyProxy, ForwardsOnlyProtectedImagesAndAnswers) {
  testing::ScratchDir d;
  ProxyOptions po;
  po.audit_log = d / "audit.jsonl";
  Stack s(po);
  cv::Mat raw = testing::TinyReference::get().image(0);
  auto c = s.client();
  httplib::Headers auth = {{"Authorization", "Bearer sk-client-secret"}};
  auto r = c.Post("/v1/chat/completions", auth, chat({png_url(raw), png_url(raw)}).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto reply = json::parse(r->body);
  EXPECT_FALSE(reply["choices"][0]["message"]["content"].get<std::string>().empty());

  auto seen = s.recorder->seen();
  ASSERT_EQ(seen.size(), 2u);
  cv::Mat expected = make_protector("pixelate:block=8")->protect(raw);
  for (const auto& img : seen) {
    EXPECT_EQ(cv::norm(img, expected, cv::NORM_INF), 0);  // exactly the protected pixels
    EXPECT_GT(cv::norm(img, raw, cv::NORM_L1), 1000);     // and not the raw ones
  }
  // The repeated image was protected once; the audit log has hashes and no secrets.
  EXPECT_EQ(s.proxy->stats().images_protected, 1);
  EXPECT_EQ(s.proxy->stats().cache_hits, 1);
  std::string audit = testing::read_text(d / "audit.jsonl");
  EXPECT_NE(audit.find("\"sha256_in\""), std::string::npos);
  EXPECT_EQ(audit.find("sk-client-secret"), std::string::npos);
  EXPECT_EQ(audit.find("How many people"), std::string::npos);
  EXPECT_EQ(audit.find("base64"), std::string::npos);

  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "tiny");
  EXPECT_EQ(c.Get("/health")->status, 200);
}

TEST(PrivacyProxy, RelaysStreamsChunkByChunk) {
  Stack s;
  auto c = s.client();
  auto r = c.Post("/v1/chat/completions", chat({png_url(testing::TinyReference::get().image(1))}, true).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  EXPECT_NE(r->body.find("chat.completion.chunk"), std::string::npos);
  EXPECT_NE(r->body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(s.recorder->seen().size(), 1u);
}

TEST(PrivacyProxy, FailsClosedOnBadInput) {
  ProxyOptions po;
  po.max_body_bytes = 500000;
  Stack s(po);
  auto c = s.client();
  cv::Mat raw = testing::TinyReference::get().image(0);
  expect_error(c.Post("/v1/chat/completions", "{oops", "application/json"), 400, "not valid JSON");
  expect_error(c.Post("/v1/chat/completions", chat({"data:image/png;base64,!!!"}).dump(), "application/json"), 400, "invalid base64");
  auto png = encode_image(raw, ImageFormat::kPng);
  png.resize(png.size() / 2);
  expect_error(c.Post("/v1/chat/completions", chat({"data:image/png;base64," + base64_encode(png)}).dump(), "application/json"), 400,
               "truncated PNG");
  expect_error(c.Post("/v1/chat/completions", chat({"https://example.com/cat.jpg"}).dump(), "application/json"), 400, "remote image URLs are disabled");
  json audio = chat({png_url(raw)});
  audio["messages"][0]["content"].push_back({{"type", "input_audio"}, {"input_audio", {{"data", "AAAA"}, {"format", "wav"}}}});
  expect_error(c.Post("/v1/chat/completions", audio.dump(), "application/json"), 400, "cannot be protected");
  expect_error(c.Post("/v1/chat/completions", std::string(600000, ' '), "application/json"), 413, "too large");
  // Nothing of the above reached the upstream.
  EXPECT_EQ(s.recorder->seen().size(), 0u);
  EXPECT_EQ(s.upstream->completions(), 0);
}

TEST(PrivacyProxy, ResponsesApiInputImages) {
  Stack s;
  cv::Mat raw = testing::TinyReference::get().image(2);
  json body = {{"model", "tiny"},
               {"input", json::array({{{"role", "user"},
                                       {"content", json::array({{{"type", "input_text"}, {"text", "What is it?"}},
                                                                {{"type", "input_image"}, {"image_url", png_url(raw)}}})}}})}};
  auto r = s.client().Post("/v1/responses", body.dump(), "application/json");
  ASSERT_TRUE(r);
  // The reference server has no /v1/responses: the proxy protected the image, forwarded,
  // and relayed the upstream's 404 as an OpenAI-shaped error.
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json::parse(r->body).contains("error"));
  EXPECT_EQ(s.proxy->stats().images_protected, 1);
}

TEST(PrivacyProxy, UpstreamFailuresAndClientKeys) {
  {
    OracleServerOptions uo;
    uo.fault_schedule = {Fault::kServerError};
    Stack s({}, uo);
    expect_error(s.client().Post("/v1/chat/completions", chat({png_url(testing::TinyReference::get().image(0))}).dump(), "application/json"), 500,
                 "upstream:");
  }
  {
    ProxyOptions po;
    po.upstream = "http://127.0.0.1:9/v1";
    Stack s(po);
    expect_error(s.client().Post("/v1/chat/completions", chat({png_url(testing::TinyReference::get().image(0))}).dump(), "application/json"), 502,
                 "upstream");
  }
  {
    ProxyOptions po;
    po.upstream_timeout_s = 1;
    OracleServerOptions uo;
    uo.fault_schedule = {Fault::kTimeout};
    uo.fault_delay_s = 3;
    Stack s(po, uo);
    expect_error(s.client().Post("/v1/chat/completions", chat({png_url(testing::TinyReference::get().image(0))}).dump(), "application/json"), 504,
                 "upstream");
  }
  {
    ProxyOptions po;
    po.require_key = "proxy-key";
    Stack s(po);
    auto c = s.client();
    expect_error(c.Post("/v1/chat/completions", chat({png_url(testing::TinyReference::get().image(0))}).dump(), "application/json"), 401, "proxy key");
    httplib::Headers h = {{"Authorization", "Bearer proxy-key"}};
    EXPECT_EQ(c.Post("/v1/chat/completions", h, chat({png_url(testing::TinyReference::get().image(0))}).dump(), "application/json")->status, 200);
  }
}

}  // namespace scrim

namespace scrim {

TEST(PrivacyProxy, FetchesRemoteImagesOnlyWhenAllowed) {
  // A real image server on loopback.
  httplib::Server images;
  auto png = encode_image(testing::TinyReference::get().image(3), ImageFormat::kPng);
  std::string png_body(png.begin(), png.end());
  images.Get("/cat.png", [&](const httplib::Request&, httplib::Response& r) { r.set_content(png_body, "image/png"); });
  images.Get("/huge.png", [&](const httplib::Request&, httplib::Response& r) { r.set_content(std::string(3'000'000, 'x'), "image/png"); });
  int port = images.bind_to_any_port("127.0.0.1");
  std::thread server([&] { images.listen_after_bind(); });
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  {
    ProxyOptions po;
    po.fetch_urls = true;
    po.allow_hosts = {"127.0.0.1"};
    po.max_fetch_bytes = 1'000'000;
    Stack s(po);
    auto c = s.client();
    auto ok = c.Post("/v1/chat/completions", chat({base + "/cat.png"}).dump(), "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
    ASSERT_EQ(s.recorder->seen().size(), 1u);
    cv::Mat expected = make_protector("pixelate:block=8")->protect(testing::TinyReference::get().image(3));
    EXPECT_EQ(cv::norm(s.recorder->seen()[0], expected, cv::NORM_INF), 0);
    expect_error(c.Post("/v1/chat/completions", chat({base + "/huge.png"}).dump(), "application/json"), 400, "exceeds");
    expect_error(c.Post("/v1/chat/completions", chat({base + "/missing.png"}).dump(), "application/json"), 400, "HTTP 404");
    expect_error(c.Post("/v1/chat/completions", chat({"http://localhost:" + std::to_string(port) + "/cat.png"}).dump(), "application/json"), 400,
                 "allow-list");
    EXPECT_EQ(s.recorder->seen().size(), 1u);
  }
  images.stop();
  server.join();
}

}  // namespace scrim

namespace scrim {

TEST(PrivacyProxy, KeepsItsUpstreamConnectionAliveAndReconnects) {
  // A plain upstream that records the client port of every request: the
  // proxy's requests arrive on one kept-alive connection, and after the
  // upstream drops it (idle for 1 s) the next request opens a new one.
  std::mutex m;
  std::set<int> ports;
  httplib::Server up;
  up.set_keep_alive_timeout(1);
  auto record = [&](const httplib::Request& req, httplib::Response& res, const std::string& body) {
    std::lock_guard lock(m);
    ports.insert(req.remote_port);
    res.set_content(body, "application/json");
  };
  up.Post("/v1/chat/completions", [&](const httplib::Request& q, httplib::Response& r) {
    record(q, r, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"two"},"finish_reason":"stop"}]})");
  });
  up.Get("/v1/models", [&](const httplib::Request& q, httplib::Response& r) { record(q, r, R"({"object":"list","data":[]})"); });
  int port = up.bind_to_any_port("127.0.0.1");
  std::thread t([&] { up.listen_after_bind(); });

  ProxyOptions po;
  po.upstream = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  Stack s(po);
  auto c = s.client();
  auto body = chat({png_url(testing::TinyReference::get().image(0))}).dump();
  for (int i = 0; i < 4; ++i) {
    auto r = c.Post("/v1/chat/completions", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  EXPECT_EQ(c.Get("/v1/models")->status, 200);
  EXPECT_EQ(ports.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  auto r = c.Post("/v1/chat/completions", body, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(ports.size(), 2u);
  up.stop();
  t.join();
}

}  // namespace scrim
