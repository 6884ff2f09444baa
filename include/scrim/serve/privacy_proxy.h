// The privacy proxy (`scrim serve`): an OpenAI-compatible endpoint that
// protects every image before it leaves. Clients change only their base URL.
//
//   POST /v1/chat/completions   image_url parts (data URLs, or http(s) URLs the
//                               proxy fetches itself when allowed) are decoded,
//                               protected, stripped of metadata and re-encoded;
//                               text is untouched; SSE streams are relayed
//   POST /v1/responses          the same for input_image parts
//   GET  /v1/models             passed through
//   GET  /health
//
// Fail closed: an image that cannot be decoded or protected gets a 400 and
// nothing is forwarded; parts that cannot be protected (files, audio, video)
// are refused unless their type is explicitly allowed, and any image-looking
// value outside the parts the proxy understands refuses the request.
// Bounded: body bytes (after decompression), JSON depth, declared pixels per
// request, in-flight requests per client, cache and stream buffers in bytes.
// docs/serve-threat-model.md says what it protects and what it does not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace scrim {

struct ProxyOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port
  std::string upstream;                     // base URL, e.g. https://api.openai.com/v1
  std::string protector = "blur:sigma=6";   // protector spec
  std::string require_key;                  // when set, clients must send "Authorization: Bearer <key>" (compared in constant time)
  size_t max_body_bytes = 32 * 1024 * 1024; // request body, counted after any Content-Encoding is undone
  int max_json_depth = 64;                  // nesting of the request body
  int max_images = 16;                      // image parts per request
  int64_t max_pixels = 50'000'000;          // per image (declared in its header)
  int64_t max_request_pixels = 64'000'000;  // all images of one request together (decoding costs CPU)
  double upstream_timeout_s = 300;
  double request_timeout_s = 30;            // reading a client request's body, in total
  // The longest an image waits for a protection thread (every one busy with others' images) before its request is
  // refused with a 503 (server_busy), nothing of it sent. Under a millisecond: no bound.
  double protect_wait_s = 30;
  bool fetch_urls = false;                  // fetch http(s) image URLs (else refused)
  std::vector<std::string> allow_hosts;     // hosts that may be fetched (empty: any public host, when fetch_urls)
  bool fetch_allow_private = false;         // also fetch from loopback, private and link-local addresses
  std::vector<int> fetch_ports = {80, 443}; // ports an image URL may name
  size_t max_fetch_bytes = 20 * 1024 * 1024;
  double fetch_timeout_s = 10;              // total, per image
  // Host name -> numeric addresses for image URLs; empty: the system resolver. For tests.
  std::function<std::vector<std::string>(const std::string& host)> fetch_resolver;
  std::vector<std::string> allow_unprotected_parts;  // part types forwarded unchanged (e.g. input_audio, file); each is audited
  std::filesystem::path audit_log;          // JSON lines; empty: none
  int workers = 0;                          // request threads (0: max(32, 4 x cores), so slow clients cannot pin them all)
  int max_requests_per_client = 16;         // in flight from one client address; more get 429
  double header_timeout_s = 10;             // a request's line and headers must all arrive within this
  int max_connections_per_client = 64;      // open connections from one address; more are closed at once
  int max_connections = 1024;               // open connections in all
  size_t cache_entries = 512;               // protected images kept by content hash, per client key
  size_t cache_max_bytes = 256 * 1024 * 1024;
  size_t max_stream_buffer_bytes = 4 * 1024 * 1024;  // SSE bytes held for a slow client before the upstream is paused
  double drain_timeout_s = 30;              // stop(): in-flight requests and streams get this long to finish
};

struct ProxyStats {
  int64_t requests = 0;
  int64_t images_protected = 0;
  int64_t cache_hits = 0;
  int64_t refused = 0;
};

class PrivacyProxy {
 public:
  explicit PrivacyProxy(ProxyOptions options);  // validates the protector spec; throws UsageError
  ~PrivacyProxy();
  PrivacyProxy(const PrivacyProxy&) = delete;
  PrivacyProxy& operator=(const PrivacyProxy&) = delete;

  void bind();    // throws scrim::Error when the address is taken
  void serve();   // blocks until stop()
  void stop();    // refuses new requests (503) and lets those in flight finish, up to drain_timeout_s
  int port() const;
  ProxyStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scrim
