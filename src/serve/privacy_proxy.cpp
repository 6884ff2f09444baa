#include "scrim/serve/privacy_proxy.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <list>
#include <mutex>
#include <regex>
#include <thread>
#include <unordered_map>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "oracle/http_client_pool.h"
#include "scrim/core/error.h"
#include "scrim/core/sha256.h"
#include "scrim/media/image_header.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/privacy/protector.h"
#include "serve/connection_guard.h"
#include "serve/http_common.h"
#include "serve/image_fetcher.h"
#include "serve/image_parts.h"
#include "serve/protection_executor.h"
#include "serve/request_guard.h"

using nlohmann::json;

namespace scrim {

using serve::send_error;
namespace {

using openai::ProtocolError;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Protected images by the hash of the client's key and the original bytes: an
// image repeated across a conversation is protected once, and one client's
// cache hits tell nothing about what another client sent. Bounded in entries
// and in bytes.
class ProtectedCache {
 public:
  ProtectedCache(size_t capacity, size_t max_bytes) : capacity_(capacity), max_bytes_(max_bytes) {}
  bool get(const std::string& key, std::string& value) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    order_.splice(order_.begin(), order_, it->second.second);
    value = it->second.first;
    return true;
  }
  void put(const std::string& key, const std::string& value) {
    if (capacity_ == 0 || value.size() > max_bytes_) return;
    std::lock_guard lock(mutex_);
    if (map_.count(key)) return;
    order_.push_front(key);
    map_[key] = {value, order_.begin()};
    bytes_ += value.size();
    while (map_.size() > capacity_ || bytes_ > max_bytes_) {
      auto victim = map_.find(order_.back());
      bytes_ -= victim->second.first.size();
      map_.erase(victim);
      order_.pop_back();
    }
  }

 private:
  size_t capacity_, max_bytes_;
  size_t bytes_ = 0;
  std::mutex mutex_;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::string, std::list<std::string>::iterator>> map_;
};

// Compares digests without an early exit, so the time taken tells neither how
// much of a guess was right nor the key's length.
bool constant_time_equal(const std::string& a, const std::string& b) {
  std::string da = sha256_hex(a.data(), a.size()), db = sha256_hex(b.data(), b.size());
  unsigned char diff = 0;
  for (size_t i = 0; i < da.size(); ++i) diff |= static_cast<unsigned char>(da[i] ^ db[i]);
  return diff == 0;
}

// Upstream headers a client needs for back-off and support tickets.
bool relayed_header(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return n == "retry-after" || n == "x-request-id" || n.rfind("x-ratelimit-", 0) == 0 || n == "openai-processing-ms";
}

void relay_headers(const httplib::Headers& from, httplib::Response& to) {
  for (const auto& [name, value] : from)
    if (relayed_header(name)) to.set_header(name, value);
}

// In-flight requests, per client address and in total; stop() waits for them.
class InFlight {
 public:
  explicit InFlight(int per_client) : per_client_(per_client) {}
  bool enter(const std::string& client) {
    std::lock_guard lock(m_);
    int& n = by_client_[client];
    if (n >= per_client_) {
      if (n == 0) by_client_.erase(client);
      return false;
    }
    ++n;
    ++total_;
    return true;
  }
  void leave(const std::string& client) {
    std::lock_guard lock(m_);
    if (--by_client_[client] <= 0) by_client_.erase(client);
    --total_;
    cv_.notify_all();
  }
  bool wait_idle(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(m_);
    return cv_.wait_until(lock, deadline, [&] { return total_ == 0; });
  }

 private:
  int per_client_;
  std::mutex m_;
  std::condition_variable cv_;
  std::unordered_map<std::string, int> by_client_;
  int total_ = 0;
};

struct ImageAudit {
  std::string sha256_in, sha256_out;
  size_t bytes_in = 0, bytes_out = 0;
  double protect_ms = 0;
  bool cached = false;
};

struct Upstream {
  std::string origin, path;  // scheme://host:port and the base path (e.g. /v1)
};

// scheme://host[:port][/path], parsed by hand. Credentials in the URL are
// refused: they would reach logs and error messages (keys go in headers).
Upstream parse_upstream(const std::string& url) {
  auto bad = [](const std::string& why) { return UsageError("serve: --upstream " + why); };
  if (url.size() > 2048) throw bad("is longer than 2048 characters");
  size_t scheme_end = url.rfind("http://", 0) == 0 ? 7 : url.rfind("https://", 0) == 0 ? 8 : 0;
  if (scheme_end == 0) throw bad("must be an http(s) URL");
  size_t slash = url.find('/', scheme_end);
  std::string authority = url.substr(scheme_end, slash == std::string::npos ? std::string::npos : slash - scheme_end);
  if (authority.find('@') != std::string::npos) throw bad("must not carry credentials (user:password@); send keys as headers");
  if (authority.empty() || authority.find_first_of(" \t\r\n?#") != std::string::npos) throw bad("has no valid host");
  Upstream u{url.substr(0, scheme_end) + authority, slash == std::string::npos ? "" : url.substr(slash)};
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  return u;
}

}  // namespace

struct PrivacyProxy::Impl {
  ProxyOptions options;
  Upstream upstream;
  serve::ProtectionExecutor protectors;  // protects on threads of its own (serve/protection_executor.h)
  ProtectedCache cache;
  httplib::Server server;
  int port = 0;
  std::atomic<int64_t> requests{0}, images{0}, cache_hits{0}, refused{0};
  std::atomic<uint64_t> next_id{1};
  std::mutex audit_mutex;
  std::ofstream audit;
  InFlight in_flight;
  std::atomic<bool> draining{false};
  serve::ConnectionGuard connections;
  size_t worker_threads = 0;
  serve::GuardOptions guard;

  // Upstream connections, kept alive and reused across requests (each one
  // borrowed by a single request at a time).
  HttpClientPool pool;

  explicit Impl(ProxyOptions o)
      : options(std::move(o)),
        upstream(parse_upstream(options.upstream)),
        protectors([spec = options.protector] { return make_protector(spec); }),
        cache(options.cache_entries, options.cache_max_bytes),
        in_flight(options.max_requests_per_client),
        connections({options.header_timeout_s, options.max_connections_per_client, options.max_connections}),
        pool(upstream.origin, upstream_settings(options)) {
    guard.max_depth = options.max_json_depth;
    guard.parts.max_images = options.max_images;
    guard.parts.allow_unprotected.insert(options.allow_unprotected_parts.begin(), options.allow_unprotected_parts.end());
  }

  static HttpClientSettings upstream_settings(const ProxyOptions& o) {
    HttpClientSettings s;
    s.connect_timeout_s = 10;
    s.read_timeout_s = o.upstream_timeout_s;
    s.write_timeout_s = 60;
    return s;
  }

  bool authorised(const httplib::Request& req, httplib::Response& res) {
    if (options.require_key.empty()) return true;
    if (constant_time_equal(req.get_header_value("Authorization"), "Bearer " + options.require_key)) return true;
    send_error(res, 401, "missing or wrong proxy key", "invalid_request_error", "", "invalid_api_key");
    return false;
  }

  // Bytes of an image URL: a data URL, or (when allowed) an http(s) URL fetched under limits.
  std::vector<uint8_t> image_bytes(const std::string& url, const std::string& param) {
    if (url.rfind("data:", 0) == 0) return openai::decode_data_url(url, param);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      throw ProtocolError(400, "image URL must be a data: or http(s): URL", "invalid_request_error", param, "invalid_image_url");
    if (!options.fetch_urls)
      throw ProtocolError(400, "remote image URLs are disabled on this proxy (start it with --fetch-urls)", "invalid_request_error", param,
                          "remote_images_disabled");
    serve::FetchOptions fetch;
    fetch.allow_hosts = options.allow_hosts;
    fetch.allow_private = options.fetch_allow_private;
    fetch.ports = options.fetch_ports;
    fetch.max_bytes = options.max_fetch_bytes;
    fetch.timeout_s = options.fetch_timeout_s;
    auto fetched = serve::ImageFetcher(fetch, options.fetch_resolver).fetch(url);
    if (!fetched.ok()) {
      // The reason stays in the log: the client learns nothing about the proxy's network.
      spdlog::warn("image fetch refused: {}", fetched.failure);
      throw ProtocolError(400, serve::kFetchFailedMessage, "invalid_request_error", param, "image_fetch_failed");
    }
    return std::move(fetched.bytes);
  }

  // What one request has spent so far.
  struct RequestState {
    std::string cache_partition;  // hash of the client's key (or address)
    int64_t declared_pixels = 0;
    std::vector<ImageAudit> rows;
  };

  // Decode -> protect -> re-encode (JPEG stays JPEG; everything else becomes PNG). Fails closed.
  std::string protect_url(const std::string& url, const std::string& param, RequestState& state) {
    auto start = std::chrono::steady_clock::now();
    auto bytes = image_bytes(url, param);
    ImageAudit row;
    row.sha256_in = sha256_hex(bytes.data(), bytes.size());
    row.bytes_in = bytes.size();
    // Decoding costs CPU in proportion to the declared size: bound the request's total before any decode.
    auto header = probe_image_header(bytes);
    state.declared_pixels += static_cast<int64_t>(header.width) * header.height;
    if (state.declared_pixels > options.max_request_pixels)
      throw ProtocolError(400, "the images of this request declare more than " + std::to_string(options.max_request_pixels) + " pixels together",
                          "invalid_request_error", param, "image_too_large");
    std::string cache_key = sha256_hex(state.cache_partition + ":" + row.sha256_in);
    std::string out;
    if (cache.get(cache_key, out)) {
      row.cached = true;
      ++cache_hits;
    } else {
      ImageReadOptions limits;
      limits.max_pixels = options.max_pixels;
      cv::Mat image;
      try {
        image = decode_image(bytes, param, limits);
      } catch (const Error& e) {
        throw ProtocolError(400, one_line(e.what()), "invalid_request_error", param, "invalid_image");
      }
      cv::Mat safe;
      try {
        const auto wait = std::chrono::milliseconds(static_cast<int64_t>(std::clamp(options.protect_wait_s, 0.0, 1e9) * 1000));
        safe = protectors.protect(image, wait);
      } catch (const serve::ProtectionBusy& e) {
        throw ProtocolError(503, std::string("the proxy is busy protecting other images: ") + one_line(e.what()), "server_error", param,
                            "server_busy");
      } catch (const std::exception& e) {
        throw ProtocolError(400, std::string("the image could not be protected: ") + one_line(e.what()), "invalid_request_error", param,
                            "protection_failed");
      }
      bool jpeg = header.format == ImageFormat::kJpeg;
      auto encoded = encode_image(safe, jpeg ? ImageFormat::kJpeg : ImageFormat::kPng, 92);
      out = openai::data_url(encoded, jpeg ? "image/jpeg" : "image/png");
      cache.put(cache_key, out);
      ++images;
    }
    auto comma = out.find(',');
    row.sha256_out = sha256_hex(out.data() + comma + 1, out.size() - comma - 1);
    row.bytes_out = out.size() - comma - 1;
    row.protect_ms = ms_since(start);
    state.rows.push_back(row);
    return out;
  }

  void write_audit(const json& entry) {
    if (!audit.is_open()) return;
    std::lock_guard lock(audit_mutex);
    audit << entry.dump() << "\n";
    audit.flush();
  }

  httplib::Headers forward_headers(const httplib::Request& req) const {
    httplib::Headers h = {{"Accept", req.get_header_value("Accept").empty() ? "application/json" : req.get_header_value("Accept")}};
    // The client's key goes upstream (unless the proxy requires its own key, which it keeps).
    std::string auth = req.get_header_value("Authorization");
    if (!auth.empty() && options.require_key.empty()) h.emplace("Authorization", auth);
    if (!options.require_key.empty()) {
      std::string up = req.get_header_value("X-Upstream-Authorization");
      if (!up.empty()) h.emplace("Authorization", up);
    }
    return h;
  }

  // Maps a non-200 upstream answer to an OpenAI-shaped error with the same status.
  void relay_error(int status, const std::string& body, httplib::Response& res) {
    auto e = openai::parse_service_error(body);
    send_error(res, status, "upstream: " + e.message, e.type.empty() ? "upstream_error" : e.type, "", e.code);
  }

  static constexpr size_t kMaxDrainedBytes = 16u << 20;

  // Reads the body through `read`, counting the bytes after any Content-Encoding
  // is undone (a small gzip body cannot expand past the limit), within a total deadline.
  bool read_body(const httplib::ContentReader& read, std::string& body, httplib::Response& res) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(options.request_timeout_s));
    bool too_big = false, too_slow = false;
    size_t discarded = 0;
    bool ok = read([&](const char* data, size_t len) {
      if (std::chrono::steady_clock::now() > deadline) return !(too_slow = true);
      if (too_big || body.size() + len > options.max_body_bytes) {
        // Past the limit the rest is read and dropped (a lingering close, as nginx does):
        // a client that sends its whole body before reading then sees the 413 rather
        // than a reset. Bounded, so a compression bomb costs little to drain.
        if (!too_big) std::string().swap(body);
        too_big = true;
        discarded += len;
        return discarded <= kMaxDrainedBytes;
      }
      body.append(data, len);
      return true;
    });
    if (!ok && res.status == 413) too_big = true;  // cpp-httplib's own check of a declared length
    if (too_big) send_error(res, 413, "request body too large (limit " + std::to_string(options.max_body_bytes) + " bytes)", "invalid_request_error", "", "body_too_large");
    else if (too_slow) send_error(res, 408, "request body not received in time", "invalid_request_error", "", "request_timeout");
    else if (!ok) send_error(res, 400, "the request body could not be read", "invalid_request_error");
    return ok && !too_big && !too_slow;
  }

  void handle_post(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read, serve::Api api) {
    if (draining) {
      res.set_header("Connection", "close");
      send_error(res, 503, "the proxy is shutting down", "server_error", "", "shutting_down");
      return;
    }
    if (!in_flight.enter(req.remote_addr)) {
      res.set_header("Retry-After", "1");
      send_error(res, 429, "too many concurrent requests from this client", "rate_limit_error", "", "too_many_requests");
      return;
    }
    bool streaming = false;
    try {
      streaming = handle_admitted(req, res, read, api);
    } catch (...) {
      in_flight.leave(req.remote_addr);
      throw;
    }
    if (!streaming) in_flight.leave(req.remote_addr);  // a stream leaves when it ends
  }

  // Returns true when a stream was started (it releases its in-flight slot itself).
  bool handle_admitted(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read, serve::Api api) {
    auto start = std::chrono::steady_clock::now();
    uint64_t id = next_id++;
    ++requests;
    json audit_entry = {{"request_id", id}, {"route", req.path}, {"protector", protectors.spec()}};
    RequestState state;
    std::vector<serve::UnprotectedPart> unprotected;
    auto finish_audit = [&, start](int status, const std::string& outcome) mutable {
      json imgs = json::array();
      for (const auto& r : state.rows)
        imgs.push_back({{"sha256_in", r.sha256_in}, {"sha256_out", r.sha256_out}, {"bytes_in", r.bytes_in}, {"bytes_out", r.bytes_out},
                        {"protect_ms", r.protect_ms}, {"cached", r.cached}});
      json passed = json::array();
      for (const auto& u : unprotected) passed.push_back({{"type", u.type}, {"param", u.param}});
      audit_entry["time"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      audit_entry["images"] = imgs;
      audit_entry["unprotected_parts"] = passed;
      audit_entry["status"] = status;
      audit_entry["outcome"] = outcome;
      audit_entry["total_ms"] = ms_since(start);
      write_audit(audit_entry);
    };
    std::string raw;
    if (!authorised(req, res) || !read_body(read, raw, res)) {
      ++refused;
      finish_audit(res.status, "refused");
      return false;
    }
    std::string client = req.get_header_value("Authorization");
    state.cache_partition = sha256_hex(client.empty() ? "addr:" + req.remote_addr : "key:" + client);
    serve::GuardedRequest guarded;
    try {
      auto rewrite = [&](const std::string& url, const std::string& param) { return protect_url(url, param, state); };
      guarded = serve::guard_request(raw, api, rewrite, guard);
      for (auto& u : guarded.counts.unprotected) unprotected.push_back({u.type, u.param, nullptr});
    } catch (const ProtocolError& e) {
      ++refused;
      send_error(res, e.status(), e.what(), e.type(), e.param(), e.code());
      finish_audit(e.status(), "refused");
      return false;
    }
    // Every image in the payload is now protected; only now may anything leave.
    std::string path = upstream.path + (api == serve::Api::kResponses ? "/responses" : "/chat/completions");
    auto headers = forward_headers(req);
    if (!guarded.stream) {
      auto client_lease = pool.borrow();
      auto up = client_lease->Post(path, headers, guarded.payload, "application/json");
      if (up) client_lease.mark_sound();
      if (!up) {
        bool timeout = up.error() == httplib::Error::Read;
        send_error(res, timeout ? 504 : 502, "upstream " + upstream.origin + ": " + httplib::to_string(up.error()),
                   timeout ? "timeout" : "upstream_error");
        finish_audit(res.status, "upstream_failed");
        return false;
      }
      relay_headers(up->headers, res);
      if (up->status != 200) relay_error(up->status, up->body, res);
      else res.set_content(up->body, up->get_header_value("Content-Type").empty() ? "application/json" : up->get_header_value("Content-Type"));
      res.status = up->status;
      finish_audit(up->status, up->status == 200 ? "forwarded" : "upstream_error");
      return false;
    }
    return relay_stream(path, guarded.payload, headers, req.remote_addr, res, finish_audit);
  }

  // Streams the upstream's SSE answer chunk by chunk. The upstream request runs
  // in its own thread; the status is known before anything is sent back, so an
  // upstream error still becomes a proper error response. A slow client pauses
  // the upstream (bounded buffer); a client that leaves cancels it; an upstream
  // that drops mid-stream ends the client's stream with an error event.
  template <typename Finish>
  bool relay_stream(const std::string& path, const std::string& payload, const httplib::Headers& headers, const std::string& client_addr,
                    httplib::Response& res, Finish& finish_audit) {
    struct Channel {
      std::mutex m;
      std::condition_variable cv;
      int status = 0;  // 0: not yet known
      bool done = false, failed = false, cancelled = false;
      std::string error;
      std::deque<std::string> chunks;
      size_t buffered = 0;
      httplib::Headers headers;
      std::string content_type = "text/event-stream";
    };
    auto ch = std::make_shared<Channel>();
    auto client = std::make_shared<HttpClientPool::Lease>(pool.borrow());
    size_t max_buffer = options.max_stream_buffer_bytes;
    std::thread([ch, client, path, payload, headers, max_buffer] {
      httplib::Request up;
      up.method = "POST";
      up.path = path;
      up.headers = headers;
      up.body = payload;
      up.set_header("Content-Type", "application/json");
      up.response_handler = [ch](const httplib::Response& r) {
        std::lock_guard lock(ch->m);
        ch->status = r.status;
        ch->headers = r.headers;
        if (r.has_header("Content-Type")) ch->content_type = r.get_header_value("Content-Type");
        ch->cv.notify_all();
        return true;
      };
      up.content_receiver = [ch, max_buffer](const char* data, size_t len, uint64_t, uint64_t) {
        std::unique_lock lock(ch->m);
        ch->cv.wait(lock, [&] { return ch->cancelled || ch->buffered < max_buffer; });
        if (ch->cancelled) return false;  // the client left: stop reading (and paying for) the upstream's tokens
        ch->chunks.emplace_back(data, len);
        ch->buffered += len;
        ch->cv.notify_all();
        return true;
      };
      auto result = (*client)->send(up);
      std::lock_guard lock(ch->m);
      if (result) client->mark_sound();
      if (!result) {
        ch->failed = true;
        ch->error = httplib::to_string(result.error());
      }
      ch->done = true;
      ch->cv.notify_all();
    }).detach();

    std::unique_lock lock(ch->m);
    ch->cv.wait(lock, [&] { return ch->status != 0 || ch->done; });
    if (ch->status == 0) {
      send_error(res, 502, "upstream " + upstream.origin + ": " + ch->error, "upstream_error");
      finish_audit(502, "upstream_failed");
      return false;
    }
    relay_headers(ch->headers, res);
    if (ch->status != 200) {
      ch->cv.wait(lock, [&] { return ch->done; });
      std::string body;
      for (const auto& c : ch->chunks) body += c;
      relay_error(ch->status, body, res);
      finish_audit(ch->status, "upstream_error");
      return false;
    }
    lock.unlock();
    finish_audit(200, "streamed");
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        ch->content_type,
        [ch](size_t, httplib::DataSink& sink) {
          std::unique_lock l(ch->m);
          ch->cv.wait(l, [&] { return !ch->chunks.empty() || ch->done; });
          while (!ch->chunks.empty()) {
            std::string c = std::move(ch->chunks.front());
            ch->chunks.pop_front();
            ch->buffered -= c.size();
            ch->cv.notify_all();
            l.unlock();
            if (!sink.write(c.data(), c.size())) return false;
            l.lock();
          }
          if (ch->done) {
            if (ch->failed) {
              // The upstream dropped mid-stream: say so rather than end as if complete.
              std::string event = "data: " +
                                  openai::error_body("upstream connection lost mid-stream: " + ch->error, "upstream_error", "", "stream_interrupted").dump() +
                                  "\n\n";
              sink.write(event.data(), event.size());
            }
            sink.done();
          }
          return true;
        },
        [this, ch, client_addr](bool) {
          {
            std::lock_guard l(ch->m);
            ch->cancelled = !ch->done;
            ch->cv.notify_all();
          }
          in_flight.leave(client_addr);
        });
    return true;
  }

  void handle_models(const httplib::Request& req, httplib::Response& res) {
    if (!authorised(req, res)) return;
    auto client = pool.borrow();
    auto up = client->Get(upstream.path + "/models", forward_headers(req));
    if (up) client.mark_sound();
    if (!up) {
      send_error(res, 502, "upstream " + upstream.origin + ": " + httplib::to_string(up.error()), "upstream_error");
      return;
    }
    relay_headers(up->headers, res);
    if (up->status != 200) relay_error(up->status, up->body, res);
    else res.set_content(up->body, "application/json");
    res.status = up->status;
  }
};

PrivacyProxy::PrivacyProxy(ProxyOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto* impl = impl_.get();
  auto& s = impl->server;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  impl->worker_threads = static_cast<size_t>(impl->options.workers > 0 ? impl->options.workers : std::max(32, 4 * cores));
  s.set_payload_max_length(impl->options.max_body_bytes);
  // Per read; the whole body is also bounded by request_timeout_s in read_body().
  s.set_read_timeout(static_cast<time_t>(std::min(10.0, impl->options.request_timeout_s)), 0);
  s.set_write_timeout(static_cast<time_t>(impl->options.upstream_timeout_s), 0);
  s.Post("/v1/chat/completions", [impl](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& read) {
    impl->handle_post(q, r, read, serve::Api::kChatCompletions);
  });
  s.Post("/v1/responses", [impl](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& read) {
    impl->handle_post(q, r, read, serve::Api::kResponses);
  });
  s.Get("/v1/models", [impl](const httplib::Request& q, httplib::Response& r) { impl->handle_models(q, r); });
  s.Get("/health", [impl](const httplib::Request&, httplib::Response& r) {
    r.set_content(json{{"status", impl->draining ? "draining" : "ok"}, {"protector", impl->protectors.spec()}}.dump(), "application/json");
  });
  serve::install_error_handlers(s);
  if (!impl->options.audit_log.empty()) {
    if (impl->options.audit_log.has_parent_path()) std::filesystem::create_directories(impl->options.audit_log.parent_path());
    impl->audit.open(impl->options.audit_log, std::ios::app);
    if (!impl->audit) throw Error(impl->options.audit_log.string() + ": cannot open the audit log");
  }
}

PrivacyProxy::~PrivacyProxy() { stop(); }

void PrivacyProxy::bind() {
  impl_->port = serve::bind_server(impl_->server, impl_->options.host, impl_->options.port);
  impl_->connections.attach(impl_->server, impl_->port, impl_->worker_threads);
}

void PrivacyProxy::serve() { impl_->server.listen_after_bind(); }
void PrivacyProxy::stop() {
  if (!impl_->server.is_running()) return;
  impl_->draining = true;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(impl_->options.drain_timeout_s));
  if (!impl_->in_flight.wait_idle(deadline)) spdlog::warn("serve: requests still in flight after {} s; stopping anyway", impl_->options.drain_timeout_s);
  impl_->server.stop();
}
int PrivacyProxy::port() const { return impl_->port; }
ProxyStats PrivacyProxy::stats() const {
  return {impl_->requests.load(), impl_->images.load(), impl_->cache_hits.load(), impl_->refused.load()};
}

}  // namespace scrim
