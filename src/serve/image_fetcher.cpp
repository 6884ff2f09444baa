#include "serve/image_fetcher.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include <httplib.h>

namespace scrim::serve {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i]) return false;
  return true;
}

bool is_host_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'; }
bool is_ipv6_char(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'; }

// 1..65535 from 1 to 5 digits; -1 otherwise.
int parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return -1;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535 ? port : -1;
}

// The request target as sent: refuses whitespace and control characters (a CR
// or LF would split the request line), percent-encodes non-ASCII bytes.
std::optional<std::string> request_target(std::string_view rest) {
  rest = rest.substr(0, rest.find('#'));  // a fragment is never sent
  std::string target = rest.empty() || rest[0] != '/' ? "/" : "";
  static const char* hex = "0123456789ABCDEF";
  for (char ch : rest) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return std::nullopt;
    if (c >= 0x80) {
      target += '%';
      target += hex[c >> 4];
      target += hex[c & 15];
    } else {
      target += ch;
    }
  }
  return target;
}

bool public_ipv4(uint32_t a) {
  struct Range {
    uint32_t network;
    int bits;
  };
  static constexpr Range kNotPublic[] = {
      {0x00000000, 8},   // 0/8 "this network"; 0.0.0.0 reaches loopback on Linux
      {0x0A000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 carrier-grade NAT
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link-local, cloud metadata
      {0xAC100000, 12},  // 172.16/12 private
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 documentation
      {0xC0586300, 24},  // 192.88.99/24 6to4 relay anycast
      {0xC0A80000, 16},  // 192.168/16 private
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xC6336400, 24},  // 198.51.100/24 documentation
      {0xCB007100, 24},  // 203.0.113/24 documentation
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved, with the broadcast 255.255.255.255
  };
  for (const auto& r : kNotPublic)
    if ((a >> (32 - r.bits)) == (r.network >> (32 - r.bits))) return false;
  return true;
}

uint32_t ipv4_at(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

bool all_zero(const uint8_t* b, size_t n) { return std::all_of(b, b + n, [](uint8_t x) { return x == 0; }); }

bool public_ipv6(const uint8_t* b) {
  // Forms that carry an IPv4 address reach that address: judge it instead.
  if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff) return public_ipv4(ipv4_at(b + 12));  // ::ffff:a.b.c.d mapped
  static constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::equal(b, b + 12, kNat64)) return public_ipv4(ipv4_at(b + 12));  // 64:ff9b::/96 NAT64
  if (b[0] == 0x20 && b[1] == 0x02) return public_ipv4(ipv4_at(b + 2));    // 2002::/16 6to4
  // Otherwise only global unicast 2000::/3 is public: this leaves out ::, ::1, the
  // deprecated IPv4-compatible ::/96, ULA fc00::/7, link-local fe80::/10,
  // site-local fec0::/10 and multicast ff00::/8.
  if ((b[0] & 0xe0) != 0x20) return false;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) return false;                   // 2001::/23 IETF special use, Teredo
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // 2001:db8::/32 documentation
  return true;
}

// Numeric forms of a host as the address they mean: IPv6 literals, and every
// IPv4 spelling inet_aton accepts (2130706433, 0x7f000001, 127.1, 0177.0.0.1),
// which the system resolver would also read as addresses.
std::optional<std::string> numeric_host(const std::string& host) {
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return host;
  in_addr v4{};
  if (inet_aton(host.c_str(), &v4) == 0) return std::nullopt;
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &v4, text, sizeof text);
  return std::string(text);
}

bool is_numeric_address(const std::string& s) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET6, s.c_str(), &v6) == 1 || inet_pton(AF_INET, s.c_str(), &v4) == 1;
}

// Stops `client` once the deadline passes, until the fetch reports it is done:
// cpp-httplib's timeouts are per read, so a server that sends a byte just
// inside each one would otherwise hold the request for ever.
class Watchdog {
 public:
  Watchdog(httplib::ClientImpl& client, std::chrono::steady_clock::time_point deadline)
      : thread_([this, &client, deadline] {
          std::unique_lock lock(mutex_);
          if (cv_.wait_until(lock, deadline, [this] { return done_; })) return;
          while (!done_) {  // again and again: stop() is a no-op before the socket exists
            lock.unlock();
            client.stop();
            lock.lock();
            cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return done_; });
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace

std::vector<std::string> system_resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return {};
  std::vector<std::string> out;
  for (auto* p = found; p; p = p->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (p->ai_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, text, sizeof text);
    else if (p->ai_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, text, sizeof text);
    else continue;
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  freeaddrinfo(found);
  return out;
}

std::optional<FetchUrl> parse_fetch_url(std::string_view url, size_t max_chars) {
  if (url.size() > max_chars) return std::nullopt;
  FetchUrl u;
  size_t start = 0;
  if (starts_with_ci(url, "http://")) {
    start = 7;
  } else if (starts_with_ci(url, "https://")) {
    u.https = true;
    start = 8;
  } else {
    return std::nullopt;
  }
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  std::string_view authority = url.substr(start, end - start);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // userinfo: refused, so never logged or sent
  std::string_view host, port_text;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      has_port = true;
      port_text = after.substr(1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_char)) return std::nullopt;  // no zone ids
    in6_addr v6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) return std::nullopt;
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), is_host_char)) return std::nullopt;
  }
  u.port = has_port ? parse_port(port_text) : (u.https ? 443 : 80);
  if (u.port < 0) return std::nullopt;
  u.host.reserve(host.size());
  for (char c : host) u.host += lower(c);
  auto target = request_target(url.substr(end));
  if (!target) return std::nullopt;
  u.target = std::move(*target);
  return u;
}

bool is_public_address(const std::string& numeric) {
  in_addr v4{};
  if (inet_pton(AF_INET, numeric.c_str(), &v4) == 1) return public_ipv4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, numeric.c_str(), &v6) == 1) return public_ipv6(v6.s6_addr);
  return false;
}

ImageFetcher::ImageFetcher(FetchOptions options, Resolver resolver) : options_(std::move(options)), resolver_(std::move(resolver)) {
  for (auto& h : options_.allow_hosts) std::transform(h.begin(), h.end(), h.begin(), lower);
  if (!resolver_) resolver_ = system_resolve;
}

FetchResult ImageFetcher::fetch(std::string_view url) const {
  auto fail = [](std::string why) {
    FetchResult r;
    r.failure = std::move(why);
    return r;
  };
  if (url.size() > options_.max_url_chars) return fail("URL of " + std::to_string(url.size()) + " characters (at most " + std::to_string(options_.max_url_chars) + ")");
  auto parsed = parse_fetch_url(url, options_.max_url_chars);
  if (!parsed) return fail("malformed URL, or one with userinfo");
  const FetchUrl& u = *parsed;
  // The host passed parse_fetch_url's character set, so it is safe to log.
  std::string where = (u.https ? "https://" : "http://") + (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" +
                      std::to_string(u.port);
  if (!options_.allow_hosts.empty() && std::find(options_.allow_hosts.begin(), options_.allow_hosts.end(), u.host) == options_.allow_hosts.end())
    return fail(where + ": host not on the allow-list");
  if (std::find(options_.ports.begin(), options_.ports.end(), u.port) == options_.ports.end()) return fail(where + ": port not allowed");

  // Resolve once; the connection goes to the address checked here, so a DNS
  // answer that changes between check and connect (rebinding) cannot matter.
  auto numeric = numeric_host(u.host);
  std::vector<std::string> addresses = numeric ? std::vector<std::string>{*numeric} : resolver_(u.host);
  if (addresses.empty()) return fail(where + ": does not resolve");
  for (const auto& a : addresses) {
    if (!is_numeric_address(a)) return fail(where + ": the resolver returned a non-address");
    if (!options_.allow_private && !is_public_address(a)) return fail(where + ": resolves to the internal address " + a);
  }
  const std::string& pinned = addresses.front();

  std::unique_ptr<httplib::ClientImpl> client;
  if (u.https) client = std::make_unique<httplib::SSLClient>(u.host, u.port);  // SNI and certificate checks use the name
  else client = std::make_unique<httplib::ClientImpl>(u.host, u.port);         // so does the Host header
  client->set_hostname_addr_map({{u.host, pinned}});
  if (u.https && !options_.ca_cert_file.empty()) client->set_ca_cert_path(options_.ca_cert_file);
  client->set_follow_location(false);  // a redirect could lead anywhere
  client->set_decompress(false);       // no Accept-Encoding: the size cap counts the bytes as they come
  client->set_url_encode(false);       // request_target() already encoded it
  client->set_keep_alive(false);
  auto seconds = std::chrono::duration<double>(options_.timeout_s);
  client->set_connection_timeout(seconds);
  client->set_read_timeout(seconds);
  client->set_write_timeout(seconds);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds);
  int status = 0;
  bool too_big = false;
  std::string body;
  httplib::Result result{nullptr, httplib::Error::Unknown};
  {
    Watchdog watchdog(*client, deadline);
    result = client->Get(
        u.target, httplib::Headers{{"Accept", "image/*"}},
        [&](const httplib::Response& r) {
          status = r.status;
          if (r.status != 200) return false;
          too_big = r.has_header("Content-Length") && std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10) > options_.max_bytes;
          return !too_big;
        },
        [&](const char* data, size_t len) {
          too_big = body.size() + len > options_.max_bytes;
          if (too_big) return false;
          body.append(data, len);
          return std::chrono::steady_clock::now() < deadline;
        });
  }
  std::string via = where + " via " + pinned;
  if (status != 0 && status != 200) return fail(via + ": HTTP " + std::to_string(status));
  if (too_big) return fail(via + ": larger than " + std::to_string(options_.max_bytes) + " bytes");
  if (std::chrono::steady_clock::now() >= deadline) return fail(via + ": no complete answer within " + std::to_string(options_.timeout_s) + " s");
  if (!result) return fail(via + ": " + httplib::to_string(result.error()));
  FetchResult ok;
  ok.bytes.assign(body.begin(), body.end());
  return ok;
}

}  // namespace scrim::serve
