// The proxy's image fetcher against the ways a client could turn it on the
// proxy's own network: internal addresses in every spelling, a rebinding DNS,
// redirects, odd ports, slow servers, huge URLs. A real listener counts the
// connections it receives, so "refused" means nothing reached it.
#include "serve/image_fetcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "scrim/privacy/protector.h"
#include "serve/proxy_fixture.h"
#include "test_util.h"

using nlohmann::json;

namespace scrim {
namespace {

using serve::FetchOptions;
using serve::ImageFetcher;
using serve::kFetchFailedMessage;
using serve::parse_fetch_url;
using testing::chat;
using testing::png_url;
using testing::Stack;

// Listens on every address, IPv4 and IPv6 (so 127.0.0.1, ::1 and 0.0.0.0 all
// reach it), and counts the connections it accepts; each gets `reply` (if any)
// written slowly, one line every `line_gap`, until `hold` passes.
class Listener {
 public:
  explicit Listener(std::vector<std::string> reply = {}, std::chrono::milliseconds line_gap = {}, std::chrono::milliseconds hold = {})
      : reply_(std::move(reply)), line_gap_(line_gap), hold_(hold) {
    fd_ = ::socket(AF_INET6, SOCK_STREAM, 0);
    int off = 0, on = 1;
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin6_port);
    thread_ = std::thread([this] { run(); });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // a connection made just now is accepted by then
    return accepted_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      ++accepted_;
      auto until = std::chrono::steady_clock::now() + hold_;
      for (size_t i = 0; !stop_ && (i < reply_.size() || std::chrono::steady_clock::now() < until); ++i) {
        const std::string& line = reply_.empty() ? std::string() : reply_[std::min(i, reply_.size() - 1)];
        if (!line.empty() && ::send(conn, line.data(), line.size(), MSG_NOSIGNAL) < 0) break;
        std::this_thread::sleep_for(line_gap_.count() ? line_gap_ : std::chrono::milliseconds(10));
      }
      ::close(conn);
    }
  }
  std::vector<std::string> reply_;
  std::chrono::milliseconds line_gap_, hold_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A real image server on 127.0.0.1 that records what it was asked for.
struct ImageServer {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex m;
  std::vector<std::string> paths, hosts;

  ImageServer() {
    auto png = encode_image(testing::TinyReference::get().image(3), ImageFormat::kPng);
    std::string body(png.begin(), png.end());
    // Recorded before the handler runs: a logger runs after the response is written, which for
    // /huge.png ends only after the fetcher has given up on it (the test read the list too early).
    server.set_pre_routing_handler([this](const httplib::Request& q, httplib::Response&) {
      std::lock_guard lock(m);
      paths.push_back(q.path);
      hosts.push_back(q.get_header_value("Host"));
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get("/cat.png", [body](const httplib::Request&, httplib::Response& r) { r.set_content(body, "image/png"); });
    server.Get("/huge.png", [](const httplib::Request&, httplib::Response& r) { r.set_content(std::string(3'000'000, 'x'), "image/png"); });
    server.Get("/redirect", [](const httplib::Request&, httplib::Response& r) { r.set_redirect("/cat.png"); });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~ImageServer() {
    server.stop();
    thread.join();
  }
  std::vector<std::string> requested() {
    std::lock_guard lock(m);
    return paths;
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

httplib::Result post_image(Stack& s, const std::string& url) {
  return s.client().Post("/v1/chat/completions", chat({url}).dump(), "application/json");
}

// Every refused fetch gets the same answer, whatever the reason: a 400 with
// one fixed text, byte for byte the same body for the same part.
void expect_refused(const httplib::Result& r, const std::string& url) {
  static std::string first_body;
  ASSERT_TRUE(r) << url;
  EXPECT_EQ(r->status, 400) << url;
  auto j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_EQ(j["error"]["message"], kFetchFailedMessage) << url;
  if (first_body.empty()) first_body = r->body;
  EXPECT_EQ(r->body, first_body) << url;
}

}  // namespace

TEST(ImageFetcher, ParsesUrlsByHand) {
  auto u = parse_fetch_url("HTTPS://Images.Example.COM/a/b.png?size=2#frag", 8192);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "images.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a/b.png?size=2");
  u = parse_fetch_url("http://h:8080?x=1", 8192);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/?x=1");
  u = parse_fetch_url("http://[::1]:81/caf\xc3\xa9", 8192);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/caf%C3%A9");
  for (const char* bad : {"ftp://h/x", "h/x", "http://", "http:///x", "http://a@h/x", "http://a:b@h/x", "http://h@/x", "http://h:0/",
                          "http://h:65536/", "http://h:80x/", "http://h:/", "http://[::1/", "http://[::1]x/", "http://[fe80::1%25eth0]/",
                          "http://[zz::1]/", "http://h_o/", "http://h%2e/", "http://h\\@x/", "http://h/a b", "http://h/a\r\nX: y"})
    EXPECT_FALSE(parse_fetch_url(bad, 8192)) << bad;
  std::string longest = "http://h/" + std::string(8192 - 9, 'a');
  EXPECT_TRUE(parse_fetch_url(longest, 8192));
  EXPECT_FALSE(parse_fetch_url(longest + "a", 8192));
}

TEST(ImageFetcher, TellsPublicAddressesFromInternalOnes) {
  for (const char* internal :
       {"0.0.0.0", "0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.0.9", "169.254.169.254", "172.16.0.1",
        "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.1.2.3",
        "240.0.0.1", "255.255.255.255", "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001::1", "2001:db8::1", "fc00::1", "fd12:3456::1", "fe80::1",
        "febf::1", "fec0::1", "ff02::1", "100::1", "not an address", "example.com", ""})
    EXPECT_FALSE(serve::is_public_address(internal)) << internal;
  for (const char* external : {"1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1",
                               "169.253.0.1", "192.169.0.1", "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001::200e",
                               "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"})
    EXPECT_TRUE(serve::is_public_address(external)) << external;
}

TEST(ImageFetcher, RefusesEveryInternalSpellingAndConnectsNowhere) {
  Listener listener;
  std::string p = ":" + std::to_string(listener.port());
  ProxyOptions po;
  po.fetch_urls = true;
  po.fetch_ports = {80, 443, listener.port()};  // the port is allowed: what refuses is the address
  Stack s(po);
  for (const std::string& url : std::vector<std::string>{
           "http://127.0.0.1" + p + "/", "http://a@127.0.0.1" + p + "/", "http://0x7f000001" + p + "/", "http://localhost" + p + "/",
        "http://LocalHost" + p + "/", "http://[::1]" + p + "/", "http://2130706433" + p + "/", "http://127.1" + p + "/",
        "http://0177.0.0.1" + p + "/", "http://0.0.0.0" + p + "/", "http://0" + p + "/", "http://[::ffff:127.0.0.1]" + p + "/",
        "http://[::]" + p + "/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.0.1/",
        "http://100.64.0.1/", "http://[fd00::1]/", "http://[fe80::1]/"})
    expect_refused(post_image(s, url), url);
  EXPECT_EQ(listener.accepted(), 0);
  EXPECT_EQ(s.upstream->completions(), 0);
  EXPECT_EQ(s.client().Get("/health")->status, 200);
}

TEST(ImageFetcher, ResolvesOnceAndRefusesANameThatResolvesInside) {
  Listener listener;
  std::atomic<int> lookups{0};
  ProxyOptions po;
  po.fetch_urls = true;
  po.allow_hosts = {"images.example", "mixed.example"};
  po.fetch_ports = {listener.port()};
  po.fetch_resolver = [&](const std::string& host) -> std::vector<std::string> {
    ++lookups;
    if (host == "images.example") return {"127.0.0.1"};          // rebinding: an allowed name that points inside
    if (host == "mixed.example") return {"93.184.216.34", "10.0.0.7"};
    return {};
  };
  Stack s(po);
  std::string p = ":" + std::to_string(listener.port());
  expect_refused(post_image(s, "http://images.example" + p + "/cat.png"), "images.example");
  EXPECT_EQ(lookups, 1);
  expect_refused(post_image(s, "http://mixed.example" + p + "/cat.png"), "mixed.example");
  expect_refused(post_image(s, "http://other.example" + p + "/cat.png"), "other.example");  // not on the allow-list
  EXPECT_EQ(lookups, 2);
  EXPECT_EQ(listener.accepted(), 0);
}

TEST(ImageFetcher, AllowedPrivateFetchGoesToThePinnedAddressAndIsProtected) {
  ImageServer images;
  ProxyOptions po;
  po.fetch_urls = true;
  po.fetch_allow_private = true;
  po.fetch_ports = {images.port};
  po.allow_hosts = {"images.test"};
  po.fetch_resolver = [](const std::string& host) -> std::vector<std::string> {
    return host == "images.test" ? std::vector<std::string>{"127.0.0.1"} : std::vector<std::string>{};
  };
  Stack s(po);
  std::string host = "images.test:" + std::to_string(images.port);
  auto r = post_image(s, "http://" + host + "/cat.png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_EQ(s.recorder->seen().size(), 1u);
  cv::Mat raw = testing::TinyReference::get().image(3);
  cv::Mat expected = make_protector("pixelate:block=8")->protect(raw);
  EXPECT_EQ(cv::norm(s.recorder->seen()[0], expected, cv::NORM_INF), 0);  // the protected pixels went upstream
  EXPECT_GT(cv::norm(s.recorder->seen()[0], raw, cv::NORM_L1), 1000);
  std::lock_guard lock(images.m);
  EXPECT_EQ(images.hosts, std::vector<std::string>{host});  // connected to 127.0.0.1, asked for the name
}

TEST(ImageFetcher, EveryFailureLooksTheSameAndRedirectsAreNotFollowed) {
  ImageServer images;
  int closed = 0;
  {
    Listener gone;
    closed = gone.port();
  }
  ProxyOptions po;
  po.fetch_urls = true;
  po.fetch_allow_private = true;
  po.fetch_ports = {images.port, closed};
  po.max_fetch_bytes = 1'000'000;
  Stack s(po);
  for (const std::string& url : std::vector<std::string>{images.url("/redirect"), images.url("/missing.png"), images.url("/huge.png"),
                                 "http://127.0.0.1:" + std::to_string(closed) + "/cat.png"})
    expect_refused(post_image(s, url), url);
  EXPECT_EQ(images.requested(), (std::vector<std::string>{"/redirect", "/missing.png", "/huge.png"}));  // /cat.png never
  EXPECT_EQ(s.upstream->completions(), 0);
}

TEST(ImageFetcher, OnlyPorts80And443ByDefault) {
  ImageServer images;
  ProxyOptions po;
  po.fetch_urls = true;
  po.fetch_allow_private = true;
  Stack s(po);
  expect_refused(post_image(s, images.url("/cat.png")), "default ports");
  EXPECT_TRUE(images.requested().empty());
}

TEST(ImageFetcher, HugeUrlGets400AndTheProxyKeepsServing) {
  ProxyOptions po;
  po.fetch_urls = true;
  Stack s(po);
  expect_refused(post_image(s, "http://example.com/" + std::string(30'000, 'a')), "30,000 characters");
  expect_refused(post_image(s, "http://" + std::string(30'000, 'a') + ".com/"), "30,000-character host");
  auto c = s.client();
  EXPECT_EQ(c.Get("/health")->status, 200);
  auto ok = c.Post("/v1/chat/completions", chat({png_url(testing::TinyReference::get().image(0))}).dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ImageFetcher, TotalDeadlineHoldsAgainstAServerThatDribbles) {
  // Headers, one line every 200 ms for 5 s: each read is well inside any
  // per-read timeout, so only a total deadline ends it.
  Listener slow({"HTTP/1.1 200 OK\r\n", "X-Slow: 1\r\n"}, std::chrono::milliseconds(200), std::chrono::seconds(5));
  FetchOptions o;
  o.allow_private = true;
  o.ports = {slow.port()};
  o.timeout_s = 1;
  auto start = std::chrono::steady_clock::now();
  auto r = ImageFetcher(o).fetch("http://127.0.0.1:" + std::to_string(slow.port()) + "/cat.png");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(r.ok());
  EXPECT_LT(seconds, 2.5);
  EXPECT_NE(r.failure.find("within"), std::string::npos) << r.failure;
}

TEST(ImageFetcher, HttpsChecksTheCertificateForTheNameWhileConnectingToThePinnedAddress) {
  testing::ScratchDir d;
  std::string cert = (d / "cert.pem").string(), key = (d / "key.pem").string();
  std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=images.test -addext subjectAltName=DNS:images.test -keyout " +
                     key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(make.c_str()) != 0) GTEST_SKIP() << "no openssl command to make a test certificate";
  httplib::SSLServer server(cert.c_str(), key.c_str());
  auto png = encode_image(testing::TinyReference::get().image(3), ImageFormat::kPng);
  std::string body(png.begin(), png.end());
  server.Get("/cat.png", [&](const httplib::Request&, httplib::Response& r) { r.set_content(body, "image/png"); });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  FetchOptions o;
  o.allow_private = true;
  o.ports = {port};
  o.ca_cert_file = cert;  // the certificate is its own CA
  auto to_loopback = [](const std::string&) { return std::vector<std::string>{"127.0.0.1"}; };
  std::string p = ":" + std::to_string(port) + "/cat.png";
  // Connected to 127.0.0.1, the certificate checked for the name in the URL.
  auto ok = ImageFetcher(o, to_loopback).fetch("https://images.test" + p);
  EXPECT_TRUE(ok.ok()) << ok.failure;
  EXPECT_EQ(ok.bytes.size(), png.size());
  // The same address under a name the certificate does not carry.
  EXPECT_FALSE(ImageFetcher(o, to_loopback).fetch("https://other.test" + p).ok());
  // The system's CAs do not trust a self-signed certificate.
  o.ca_cert_file.clear();
  EXPECT_FALSE(ImageFetcher(o, to_loopback).fetch("https://images.test" + p).ok());
  server.stop();
  t.join();
}

TEST(ImageFetcher, ServeRefusesFetchUrlsOffLoopbackWithoutAnAllowList) {
  // `timeout` turns a proxy that wrongly starts into a failure instead of a hang.
  std::string cmd = "timeout 10 " + std::string(SCRIM_BINARY) +
                    " serve --upstream http://127.0.0.1:9/v1 --listen 0.0.0.0:0 --fetch-urls 2>&1 >/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string err;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) err.append(buf, n);
  int status = pclose(p);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 2) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("--allow-host"), std::string::npos) << err;
}

}  // namespace scrim
