// The privacy proxy's test stack on loopback: client -> scrim proxy -> the real
// reference server, whose recorder keeps every image it decoded, so tests
// assert on exactly what left the proxy. Shared by the proxy's test files.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "reference/reference_fixture.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/serve/oracle_server.h"
#include "scrim/serve/privacy_proxy.h"

namespace scrim::testing {

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

inline std::string png_url(const cv::Mat& img) { return openai::data_url(encode_image(img, ImageFormat::kPng), "image/png"); }

inline nlohmann::json chat(const std::vector<std::string>& urls, bool stream = false) {
  using nlohmann::json;
  json content = json::array({{{"type", "text"}, {"text", "How many people are there? Answer with a single word or number."}}});
  for (const auto& u : urls) content.push_back({{"type", "image_url"}, {"image_url", {{"url", u}}}});
  return {{"model", "tiny"}, {"stream", stream}, {"logprobs", true}, {"top_logprobs", 2}, {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
}

inline void expect_error(const httplib::Result& r, int status, const std::string& fragment) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find(fragment), std::string::npos) << r->body;
}

}  // namespace scrim::testing
