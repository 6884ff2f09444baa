// Fetches the http(s) image URLs a client sends to the privacy proxy without
// turning the proxy into a way into its own network (SSRF): the URL is parsed
// by hand under a length cap, userinfo is refused, the host is resolved once
// and every address it resolves to must be public, the connection goes to that
// pinned address (the Host header and TLS SNI keep the name), only allowed
// ports, no redirects, a total deadline and a size cap.
//
// Every failure looks the same to the client (kFetchFailedMessage), so it cannot
// tell an internal host from an external one or an open port from a closed
// one; the reason is returned for the server log only. Private header:
// cpp-httplib inside the .cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scrim::serve {

// The one error text a client sees for any refused or failed fetch.
inline constexpr const char* kFetchFailedMessage = "the image URL could not be fetched";

// Host name -> numeric addresses ("93.184.216.34", "2606:2800:220:1::"); empty
// when the name does not resolve. Injectable so tests can play a rebinding DNS.
using Resolver = std::function<std::vector<std::string>(const std::string& host)>;

// The system resolver (getaddrinfo).
std::vector<std::string> system_resolve(const std::string& host);

struct FetchOptions {
  std::vector<std::string> allow_hosts;  // host names that may be fetched (case-insensitive); empty: any public host
  bool allow_private = false;            // also loopback, private, link-local... addresses (loopback deployments, tests)
  std::vector<int> ports = {80, 443};    // ports a URL may name
  size_t max_bytes = 20 * 1024 * 1024;   // largest image body
  double timeout_s = 10;                 // total deadline: connect, TLS, headers and body
  size_t max_url_chars = 8192;           // longer URLs are refused before any parsing
  std::string ca_cert_file;              // PEM file of CAs that https image hosts are checked against; empty: the system's
};

// A URL the fetcher accepted syntactically.
struct FetchUrl {
  bool https = false;
  std::string host;    // lower case; an IPv6 literal without its brackets
  int port = 0;
  std::string target;  // path and query, always starting with '/'; no fragment
};

// Parses an http(s) URL by hand (no regex: linear in its length). nullopt for
// anything malformed, over max_chars, with userinfo, an IPv6 zone, a host with
// characters outside [a-z0-9.-], or control characters in the target.
std::optional<FetchUrl> parse_fetch_url(std::string_view url, size_t max_chars);

// True for a numeric address (IPv4 dotted quad or IPv6) that is globally
// routable: false for loopback, unspecified, private (10/8, 172.16/12,
// 192.168/16), CGNAT (100.64/10), link-local (169.254/16, fe80::/10),
// multicast, broadcast and reserved ranges, ULA (fc00::/7), documentation
// ranges, and IPv4-mapped / NAT64 / 6to4 forms of any of those. False for text
// that is not a numeric address.
bool is_public_address(const std::string& numeric);

struct FetchResult {
  std::vector<uint8_t> bytes;  // the body, when ok()
  std::string failure;         // why not, for the server log only (no userinfo, no path)
  bool ok() const { return failure.empty(); }
};

// Thread-safe: fetch() keeps no state between calls.
class ImageFetcher {
 public:
  explicit ImageFetcher(FetchOptions options, Resolver resolver = system_resolve);
  FetchResult fetch(std::string_view url) const;

 private:
  FetchOptions options_;
  Resolver resolver_;
};

}  // namespace scrim::serve
