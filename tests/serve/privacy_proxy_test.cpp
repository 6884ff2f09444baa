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

#include "reference/reference_fixture.h"
#include "scrim/core/base64.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/privacy/protector.h"
#include "scrim/serve/oracle_server.h"
#include "serve/proxy_fixture.h"
#include "test_util.h"

using nlohmann::json;

namespace scrim {
namespace {

using testing::chat;
using testing::expect_error;
using testing::png_url;
using testing::Stack;

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

TEST(PrivacyProxy, RelaysAStreamedAnswerFromTheReferenceServer) {
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
  // The reference server answers the Responses API too: the protected image
  // went upstream and its answer came back as an output_text message.
  ASSERT_EQ(r->status, 200) << r->body;
  auto reply = json::parse(r->body);
  EXPECT_EQ(reply["object"], "response");
  EXPECT_EQ(reply["status"], "completed");
  EXPECT_EQ(reply["output"][0]["type"], "message");
  EXPECT_EQ(reply["output"][0]["content"][0]["type"], "output_text");
  EXPECT_FALSE(reply["output"][0]["content"][0]["text"].get<std::string>().empty());
  ASSERT_EQ(s.recorder->seen().size(), 1u);
  EXPECT_EQ(cv::norm(s.recorder->seen()[0], make_protector("pixelate:block=8")->protect(raw), cv::NORM_INF), 0);
  EXPECT_EQ(s.proxy->stats().images_protected, 1);

  // Streamed: named events from response.created to response.completed, relayed through the proxy.
  body["stream"] = true;
  auto streamed = s.client().Post("/v1/responses", body.dump(), "application/json");
  ASSERT_TRUE(streamed);
  ASSERT_EQ(streamed->status, 200) << streamed->body;
  EXPECT_NE(streamed->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  auto created = streamed->body.find("event: response.created\n");
  auto delta = streamed->body.find("event: response.output_text.delta\n");
  auto completed = streamed->body.find("event: response.completed\n");
  EXPECT_NE(created, std::string::npos) << streamed->body;
  EXPECT_NE(completed, std::string::npos) << streamed->body;
  EXPECT_LT(created, delta);
  EXPECT_LT(delta, completed);
  EXPECT_EQ(s.recorder->seen().size(), 2u);
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
