// The privacy proxy under hostile clients and failing upstreams (issue 19):
// bounded bodies and nesting, slow clients, an exclusive port, smuggled
// images, streams that drop or are abandoned, draining on stop, relayed
// back-off headers, a per-client cache, a pixel budget per request. The
// upstream here is a plain recording HTTP server, so the tests see the exact
// bytes that left the proxy.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <opencv2/core.hpp>

#include "scrim/core/error.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/serve/privacy_proxy.h"
#include "test_util.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace scrim {
namespace {

const char* kReply = R"({"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]})";

// A plain upstream that records every body it receives.
struct RecordingUpstream {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex m;
  std::vector<std::string> bodies;

  // Records every body, then answers with `handler` (default: a fixed chat reply).
  explicit RecordingUpstream(httplib::Server::Handler handler = nullptr) {
    server.Post("/v1/chat/completions", [this, handler](const httplib::Request& q, httplib::Response& r) {
      record(q);
      if (handler) handler(q, r);
      else r.set_content(kReply, "application/json");
    });
  }
  void start() {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  void record(const httplib::Request& q) {
    std::lock_guard lock(m);
    bodies.push_back(q.body);
  }
  size_t received() {
    std::lock_guard lock(m);
    return bodies.size();
  }
  ~RecordingUpstream() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
};

struct Proxy {
  std::unique_ptr<PrivacyProxy> proxy;
  std::thread thread;
  Proxy(ProxyOptions po, int upstream_port) {
    po.port = 0;
    po.upstream = "http://127.0.0.1:" + std::to_string(upstream_port) + "/v1";
    proxy = std::make_unique<PrivacyProxy>(po);
    proxy->bind();
    thread = std::thread([this] { proxy->serve(); });
  }
  ~Proxy() {
    proxy->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", proxy->port());
    c.set_read_timeout(20, 0);
    return c;
  }
};

// A noise image: any protector changes it, so its bytes never survive protection.
std::string image_url(int size, int seed = 0) {
  cv::Mat img(size, size, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(seed) + 1);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return openai::data_url(encode_image(img, ImageFormat::kPng), "image/png");
}

json chat_body(const std::vector<std::string>& urls, bool stream = false) {
  json content = json::array({{{"type", "text"}, {"text", "what is this?"}}});
  for (const auto& u : urls) content.push_back({{"type", "image_url"}, {"image_url", {{"url", u}}}});
  return {{"model", "m"}, {"stream", stream}, {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
}

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

std::string error_code(const httplib::Result& r) {
  if (!r) return "no response";
  auto j = json::parse(r->body, nullptr, false);
  return j.is_object() && j.contains("error") && j["error"]["code"].is_string() ? j["error"]["code"].get<std::string>() : r->body.substr(0, 200);
}

// gzip of `prefix` + n zero bytes + `suffix`, compressed in pieces (no n-byte buffer).
std::string gzip_with_zeros(const std::string& prefix, size_t n, const std::string& suffix) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out;
  std::vector<char> buf(1 << 16);
  auto feed = [&](const char* data, size_t len, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z.avail_in = static_cast<uInt>(len);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  };
  feed(prefix.data(), prefix.size(), Z_NO_FLUSH);
  std::string zeros(1 << 20, '0');
  for (size_t done = 0; done < n; done += zeros.size()) feed(zeros.data(), std::min(zeros.size(), n - done), Z_NO_FLUSH);
  feed(suffix.data(), suffix.size(), Z_FINISH);
  deflateEnd(&z);
  return out;
}

long peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST(ProxyHardening, DeepNestingGetsA400AndTheServerKeepsServing) {
  RecordingUpstream up;
  up.start();
  Proxy p({}, up.port);
  auto c = p.client();
  std::string body = R"({"model":"x","messages":[],"extra":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = c.Post("/v1/chat/completions", body, "application/json");
  EXPECT_EQ(status_of(r), 400);
  EXPECT_EQ(status_of(c.Get("/health")), 200);
  EXPECT_EQ(up.received(), 0u);
}

TEST(ProxyHardening, ChunkedAndCompressedBodiesOverTheLimitGet413WithBoundedMemory) {
  RecordingUpstream up;
  up.start();
  ProxyOptions po;
  po.max_body_bytes = 200000;
  Proxy p(po, up.port);
  auto c = p.client();
  std::string big = chat_body({}).dump();
  big.insert(big.size() - 1, ",\"pad\":\"" + std::string(600000, 'x') + "\"");
  // Chunked: no Content-Length for the server to check up front. Sent in paced pieces,
  // so the proxy passes its limit while the client is still writing: the client must
  // still read a 413, not a reset.
  auto chunked = c.Post("/v1/chat/completions", [&](size_t offset, httplib::DataSink& sink) {
    std::this_thread::sleep_for(20ms);
    sink.write(big.data() + offset, std::min<size_t>(65536, big.size() - offset));
    if (offset + 65536 >= big.size()) sink.done();
    return true;
  }, "application/json");
  EXPECT_EQ(status_of(chunked), 413) << (chunked ? chunked->body : "");
  // gzip: 600 KB that travels as a few hundred bytes.
  httplib::Headers gz = {{"Content-Encoding", "gzip"}};
  std::string small_gzip = gzip_with_zeros(R"({"model":"m","messages":[],"pad":")", 600000, R"("})");
  EXPECT_LT(small_gzip.size(), 5000u);
  EXPECT_EQ(status_of(c.Post("/v1/chat/completions", gz, small_gzip, "application/json")), 413);
  // A gzip bomb (200 MB inflated) is cut at the limit, not held in memory.
  long before = peak_rss_kb();
  std::string bomb = gzip_with_zeros(R"({"model":"m","messages":[],"pad":")", 200u << 20, R"("})");
  EXPECT_EQ(status_of(c.Post("/v1/chat/completions", gz, bomb, "application/json")), 413);
  EXPECT_LT(peak_rss_kb() - before, 64 * 1024) << "peak RSS grew by " << (peak_rss_kb() - before) / 1024 << " MB";
  EXPECT_EQ(up.received(), 0u);
  EXPECT_EQ(status_of(c.Get("/health")), 200);
}

TEST(ProxyHardening, SlowClientsDoNotStarveHealth) {
  RecordingUpstream up;
  up.start();
  Proxy p({}, up.port);
  // 24 clients send their headers and one byte of a 100 KB body, then stall.
  std::vector<int> slow;
  const std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
  for (int i = 0; i < 24; ++i) {
    int fd = connect_to(p.proxy->port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    slow.push_back(fd);
  }
  std::this_thread::sleep_for(300ms);
  httplib::Client c("127.0.0.1", p.proxy->port());
  c.set_read_timeout(3, 0);
  c.set_connection_timeout(3, 0);
  auto start = std::chrono::steady_clock::now();
  auto r = c.Get("/health");
  EXPECT_EQ(status_of(r), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  for (int fd : slow) ::close(fd);
}

TEST(ProxyHardening, ClientsTricklingTheirHeadersAreCutOffAtTheDeadline) {
  RecordingUpstream up;
  up.start();
  ProxyOptions po;
  po.workers = 4;
  po.header_timeout_s = 1.5;
  Proxy p(po, up.port);
  // 12 clients (three times the workers) send their headers a byte every 300 ms, for ever.
  std::vector<int> slow;
  for (int i = 0; i < 12; ++i) {
    int fd = connect_to(p.proxy->port());
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    const std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Padding: ";
    for (size_t i = 0; !stop; ++i) {
      for (int fd : slow) ::send(fd, &head[std::min(i, head.size() - 1)], 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(300ms);
    }
  });
  std::this_thread::sleep_for(200ms);
  httplib::Client c("127.0.0.1", p.proxy->port());
  c.set_read_timeout(10, 0);
  c.set_connection_timeout(10, 0);
  auto start = std::chrono::steady_clock::now();
  auto r = c.Get("/health");
  auto waited = std::chrono::steady_clock::now() - start;
  stop = true;
  trickle.join();
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(status_of(r), 200);
  EXPECT_LT(waited, 6s) << "the tricklers held the workers";
}

TEST(ProxyHardening, ASecondServerOnABusyPortFailsAndTheCliExits1) {
  RecordingUpstream up;
  up.start();
  Proxy first({}, up.port);
  ProxyOptions po;
  po.port = first.proxy->port();
  po.upstream = "http://127.0.0.1:" + std::to_string(up.port) + "/v1";
  PrivacyProxy second(po);
  EXPECT_THROW(second.bind(), Error);
  std::string cmd = std::string("timeout 20 ") + SCRIM_BINARY + " serve --protector raw --listen 127.0.0.1:" + std::to_string(first.proxy->port()) +
                    " --upstream http://127.0.0.1:9/v1 >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  // Ports are validated as usage errors.
  rc = std::system((std::string(SCRIM_BINARY) + " serve --listen :99999 --upstream http://127.0.0.1:9/v1 >/dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  rc = std::system((std::string(SCRIM_BINARY) + " serve --listen 127.0.0.1:99999999999 --upstream http://127.0.0.1:9/v1 >/dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}

TEST(ProxyHardening, SmuggledImagesNeverReachTheUpstreamAndAllowedPartsAreAudited) {
  RecordingUpstream up;
  up.start();
  testing::ScratchDir d;
  ProxyOptions po;
  po.audit_log = d / "audit.jsonl";
  po.allow_unprotected_parts = {"input_audio"};
  Proxy p(po, up.port);
  auto c = p.client();
  std::string raw = image_url(32);
  std::vector<json> smuggled = {
      {{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "hi"}, {"image_url", {{"url", raw}}}}})}}})}},
      {{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}, {"extra", {{"thumbnail", raw}}}},
      {{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image"}, {"source", {{"type", "base64"}, {"data", raw.substr(raw.find(',') + 1)}}}}})}}})}},
  };
  for (const auto& body : smuggled) EXPECT_EQ(status_of(c.Post("/v1/chat/completions", body.dump(), "application/json")), 400) << body.dump().substr(0, 120);
  std::string dup_type = R"({"messages":[{"role":"user","content":[{"type":"image_url","type":"text","text":"x","image_url":{"url":")" + raw + R"("}}]}]})";
  EXPECT_EQ(status_of(c.Post("/v1/chat/completions", dup_type, "application/json")), 400);
  EXPECT_EQ(up.received(), 0u);
  // An allowed part type passes and is named in the audit row.
  json audio = chat_body({image_url(32)});
  audio["messages"][0]["content"].push_back({{"type", "input_audio"}, {"input_audio", {{"data", "AAAA"}, {"format", "wav"}}}});
  EXPECT_EQ(status_of(c.Post("/v1/chat/completions", audio.dump(), "application/json")), 200);
  ASSERT_EQ(up.received(), 1u);
  EXPECT_EQ(up.bodies[0].find(raw.substr(raw.size() - 80, 60)), std::string::npos);  // the image's pixel data went out protected
  std::string last, line;
  std::istringstream audit(testing::read_text(d / "audit.jsonl"));
  while (std::getline(audit, line))
    if (!line.empty()) last = line;
  auto row = json::parse(last);
  ASSERT_EQ(row["unprotected_parts"].size(), 1u);
  EXPECT_EQ(row["unprotected_parts"][0]["type"], "input_audio");
  EXPECT_EQ(row["images"].size(), 1u);
}

TEST(ProxyHardening, RelaysEachStreamChunkAsItArrives) {
  // The upstream sends five chunks 200 ms apart; a buffering relay would
  // deliver them all at the end, a chunk-by-chunk relay spreads them out.
  RecordingUpstream up([](const httplib::Request&, httplib::Response& r) {
    auto n = std::make_shared<int>(0);
    r.set_chunked_content_provider("text/event-stream", [n](size_t, httplib::DataSink& sink) {
      if (*n > 0) std::this_thread::sleep_for(200ms);
      std::string event = *n < 5 ? "data: {\"n\":" + std::to_string((*n)++) + "}\n\n" : "data: [DONE]\n\n";
      sink.write(event.data(), event.size());
      if (event.find("[DONE]") != std::string::npos) sink.done();
      return true;
    });
  });
  up.start();
  Proxy p({}, up.port);
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = chat_body({image_url(32)}, true).dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
    arrivals.push_back(std::chrono::steady_clock::now());
    return true;
  };
  auto r = p.client().send(req);
  ASSERT_TRUE(r);
  ASSERT_GE(arrivals.size(), 2u);
  EXPECT_GT(arrivals.back() - arrivals.front(), 600ms) << "the chunks arrived together: the relay buffered the stream";
}

TEST(ProxyHardening, StreamsEndWithAnErrorEventWhenTheUpstreamDrops) {
  RecordingUpstream up([](const httplib::Request&, httplib::Response& r) {
    auto sent = std::make_shared<int>(0);
    r.set_chunked_content_provider("text/event-stream", [sent](size_t, httplib::DataSink& sink) {
      if ((*sent)++ > 0) return false;  // drop the connection mid-stream
      std::string event = R"(data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"he"}}]})" "\n\n";
      sink.write(event.data(), event.size());
      return true;
    });
  });
  up.start();
  Proxy p({}, up.port);
  auto r = p.client().Post("/v1/chat/completions", chat_body({image_url(32)}, true).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("chat.completion.chunk"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("stream_interrupted"), std::string::npos) << r->body;
}

TEST(ProxyHardening, AClientThatLeavesCancelsTheUpstreamStream) {
  std::atomic<int> chunks{0};
  std::atomic<bool> upstream_saw_cancel{false};
  RecordingUpstream up([&](const httplib::Request&, httplib::Response& r) {
    r.set_chunked_content_provider("text/event-stream", [&](size_t, httplib::DataSink& sink) {
      if (chunks >= 400) {  // 20 s of tokens: a proxy that keeps reading gets them all
        sink.done();
        return true;
      }
      std::this_thread::sleep_for(50ms);
      std::string event = "data: {\"n\":" + std::to_string(chunks++) + "}\n\n";
      if (!sink.write(event.data(), event.size())) {
        upstream_saw_cancel = true;
        return false;
      }
      return true;
    });
  });
  up.start();
  Proxy p({}, up.port);
  auto c = p.client();
  int received = 0;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = chat_body({image_url(32)}, true).dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++received < 2; };
  auto r = c.send(req);
  EXPECT_FALSE(r);  // the client stopped reading
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!upstream_saw_cancel && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(upstream_saw_cancel) << "the proxy kept reading the upstream's stream (" << chunks << " chunks)";
  EXPECT_LT(chunks.load(), 200);
}

TEST(ProxyHardening, StopLetsInFlightStreamsFinish) {
  RecordingUpstream up([](const httplib::Request&, httplib::Response& r) {
    auto n = std::make_shared<int>(0);
    r.set_chunked_content_provider("text/event-stream", [n](size_t, httplib::DataSink& sink) {
      std::this_thread::sleep_for(100ms);
      std::string event = *n < 10 ? "data: {\"n\":" + std::to_string((*n)++) + "}\n\n" : "data: [DONE]\n\n";
      sink.write(event.data(), event.size());
      if (event.find("[DONE]") != std::string::npos) sink.done();
      return true;
    });
  });
  up.start();
  ProxyOptions po;
  po.drain_timeout_s = 10;
  Proxy p(po, up.port);
  std::string body = "<no response>";
  std::thread client([&] {
    auto r = p.client().Post("/v1/chat/completions", chat_body({image_url(32)}, true).dump(), "application/json");
    if (r) body = r->body;
  });
  std::this_thread::sleep_for(400ms);
  p.proxy->stop();  // as SIGTERM does
  client.join();
  EXPECT_NE(body.find("\"n\":9"), std::string::npos) << body;
  EXPECT_NE(body.find("[DONE]"), std::string::npos) << body;
}

TEST(ProxyHardening, RelaysBackOffHeadersAndHidesInternalErrors) {
  RecordingUpstream up([](const httplib::Request&, httplib::Response& r) {
    r.status = 429;
    r.set_header("Retry-After", "7");
    r.set_header("x-ratelimit-remaining-requests", "0");
    r.set_header("x-request-id", "req_123");
    r.set_content(R"({"error":{"message":"slow down","type":"rate_limit_error"}})", "application/json");
  });
  up.start();
  Proxy p({}, up.port);
  auto r = p.client().Post("/v1/chat/completions", chat_body({image_url(32)}).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "7");
  EXPECT_EQ(r->get_header_value("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(r->get_header_value("x-request-id"), "req_123");
}

TEST(ProxyHardening, TheProtectionCacheIsPartitionedPerClientKey) {
  RecordingUpstream up;
  up.start();
  Proxy p({}, up.port);
  auto c = p.client();
  std::string body = chat_body({image_url(64, 7)}).dump();
  auto as = [&](const std::string& key) { return c.Post("/v1/chat/completions", httplib::Headers{{"Authorization", "Bearer " + key}}, body, "application/json"); };
  EXPECT_EQ(status_of(as("alice")), 200);
  EXPECT_EQ(status_of(as("alice")), 200);
  EXPECT_EQ(p.proxy->stats().cache_hits, 1);
  EXPECT_EQ(status_of(as("bob")), 200);  // bob's request takes as long as a first one: it learns nothing of alice's
  EXPECT_EQ(p.proxy->stats().cache_hits, 1);
}

TEST(ProxyHardening, EachImageIsProtectedAloneWhateverOtherClientsSent) {
  // The proxy's protectors are pooled across requests: a blank picture sent
  // after a photo with faces must come back without the photo's boxes.
  std::filesystem::path photo = std::filesystem::path(SCRIM_SHARED_DIR) / "realdata/faces/dlib_pascal/2008_001322.jpg";
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "no ../shared/realdata";
  RecordingUpstream up;
  up.start();
  ProxyOptions po;
  po.protector = "regions:faces,mode=solid";
  po.workers = 1;
  Proxy p(po, up.port);
  auto c = p.client();
  cv::Mat faces = read_image(photo);
  cv::Mat blank(faces.size(), CV_8UC3, cv::Scalar(90, 140, 200));
  auto png = [](const cv::Mat& m) { return openai::data_url(encode_image(m, ImageFormat::kPng), "image/png"); };
  ASSERT_EQ(status_of(c.Post("/v1/chat/completions", chat_body({png(faces)}).dump(), "application/json")), 200);
  ASSERT_EQ(status_of(c.Post("/v1/chat/completions", chat_body({png(blank)}).dump(), "application/json")), 200);
  ASSERT_EQ(up.received(), 2u);
  auto forwarded = [&](size_t i) {
    auto body = json::parse(up.bodies[i]);
    std::string url = body["messages"][0]["content"][1]["image_url"]["url"];
    return decode_image(openai::decode_data_url(url, "url"), "forwarded");
  };
  EXPECT_GT(cv::norm(forwarded(0), faces, cv::NORM_INF), 0) << "the faces should have been hidden";
  EXPECT_EQ(cv::norm(forwarded(1), blank, cv::NORM_INF), 0) << "the blank picture came back with another picture's boxes";
}

TEST(ProxyHardening, ARequestsImagesShareAPixelBudget) {
  RecordingUpstream up;
  up.start();
  ProxyOptions po;
  po.max_request_pixels = 100000;
  Proxy p(po, up.port);
  auto c = p.client();
  EXPECT_EQ(status_of(c.Post("/v1/chat/completions", chat_body({image_url(300)}).dump(), "application/json")), 200);
  auto r = c.Post("/v1/chat/completions", chat_body({image_url(300), image_url(300, 1)}).dump(), "application/json");
  EXPECT_EQ(status_of(r), 400);
  EXPECT_EQ(error_code(r), "image_too_large");
  EXPECT_EQ(up.received(), 1u);
}

}  // namespace scrim
