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
// are refused unless explicitly allowed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace scrim {

struct ProxyOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port
  std::string upstream;                     // base URL, e.g. https://api.openai.com/v1
  std::string protector = "blur:sigma=6";   // protector spec
  std::string require_key;                  // when set, clients must send "Authorization: Bearer <key>"
  size_t max_body_bytes = 32 * 1024 * 1024;
  int max_images = 16;                      // image parts per request
  int64_t max_pixels = 50'000'000;          // per image
  double upstream_timeout_s = 300;
  double request_timeout_s = 60;            // reading a client request
  bool fetch_urls = false;                  // fetch http(s) image URLs (else refused)
  std::vector<std::string> allow_hosts;     // hosts that may be fetched (empty: any, when fetch_urls)
  size_t max_fetch_bytes = 20 * 1024 * 1024;
  double fetch_timeout_s = 10;
  bool allow_unprotected_parts = false;     // forward file/audio/video parts unchanged
  std::filesystem::path audit_log;          // JSON lines; empty: none
  int workers = 0;                          // request threads (0: 2 x cores)
  size_t cache_entries = 512;               // protected images kept by content hash
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
  void stop();    // finishes the requests in flight
  int port() const;
  ProxyStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scrim
