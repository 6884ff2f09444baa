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

#include "scrim/core/error.h"
#include "oracle/http_client_pool.h"
#include "serve/http_common.h"
#include "scrim/core/sha256.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/privacy/protector.h"
#include "serve/image_parts.h"

using nlohmann::json;

namespace scrim {

using serve::send_error;
namespace {

using openai::ProtocolError;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Protected images by the hash of the original bytes: an image repeated across
// a conversation is protected once.
class ProtectedCache {
 public:
  explicit ProtectedCache(size_t capacity) : capacity_(capacity) {}
  bool get(const std::string& key, std::string& value) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    order_.splice(order_.begin(), order_, it->second.second);
    value = it->second.first;
    return true;
  }
  void put(const std::string& key, const std::string& value) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    if (map_.count(key)) return;
    order_.push_front(key);
    map_[key] = {value, order_.begin()};
    while (map_.size() > capacity_) {
      map_.erase(order_.back());
      order_.pop_back();
    }
  }

 private:
  size_t capacity_;
  std::mutex mutex_;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::string, std::list<std::string>::iterator>> map_;
};

// Protectors are not thread-safe: each request borrows one.
class ProtectorPool {
 public:
  explicit ProtectorPool(std::string spec) : spec_(std::move(spec)) { free_.push_back(make_protector(spec_)); }
  std::unique_ptr<Protector> acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        auto p = std::move(free_.back());
        free_.pop_back();
        return p;
      }
    }
    return make_protector(spec_);
  }
  void release(std::unique_ptr<Protector> p) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(p));
  }
  std::string spec() {
    std::lock_guard lock(mutex_);
    return free_.empty() ? spec_ : free_.front()->spec();
  }

 private:
  std::string spec_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Protector>> free_;
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

Upstream parse_upstream(const std::string& url) {
  static const std::regex re(R"(^(https?://[^/]+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) throw UsageError("serve: --upstream '" + url + "' is not an http(s) URL");
  Upstream u{m[1].str(), m[2].str()};
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  return u;
}

}  // namespace

struct PrivacyProxy::Impl {
  ProxyOptions options;
  Upstream upstream;
  ProtectorPool protectors;
  ProtectedCache cache;
  httplib::Server server;
  int port = 0;
  std::atomic<int64_t> requests{0}, images{0}, cache_hits{0}, refused{0};
  std::atomic<uint64_t> next_id{1};
  std::mutex audit_mutex;
  std::ofstream audit;

  // Upstream connections, kept alive and reused across requests (each one
  // borrowed by a single request at a time).
  HttpClientPool pool;

  explicit Impl(ProxyOptions o)
      : options(std::move(o)),
        upstream(parse_upstream(options.upstream)),
        protectors(options.protector),
        cache(options.cache_entries),
        pool(upstream.origin, upstream_settings(options)) {}

  static HttpClientSettings upstream_settings(const ProxyOptions& o) {
    HttpClientSettings s;
    s.connect_timeout_s = 10;
    s.read_timeout_s = o.upstream_timeout_s;
    s.write_timeout_s = 60;
    return s;
  }

  bool authorised(const httplib::Request& req, httplib::Response& res) {
    if (options.require_key.empty()) return true;
    if (req.get_header_value("Authorization") == "Bearer " + options.require_key) return true;
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
    static const std::regex re(R"(^(https?://([^/:]+)(:[0-9]+)?)(/.*)?$)");
    std::smatch m;
    if (!std::regex_match(url, m, re)) throw ProtocolError(400, "malformed image URL", "invalid_request_error", param, "invalid_image_url");
    std::string host = m[2].str();
    if (!options.allow_hosts.empty() && std::find(options.allow_hosts.begin(), options.allow_hosts.end(), host) == options.allow_hosts.end())
      throw ProtocolError(400, "image host '" + host + "' is not on the allow-list", "invalid_request_error", param, "host_not_allowed");
    httplib::Client c(m[1].str());
    c.set_connection_timeout(static_cast<time_t>(options.fetch_timeout_s), 0);
    c.set_read_timeout(static_cast<time_t>(options.fetch_timeout_s), 0);
    c.set_follow_location(false);  // a redirect could leave the allow-list
    std::string body;
    bool too_big = false;
    auto res = c.Get(m[4].matched ? m[4].str() : "/", [&](const char* data, size_t len) {
      if (body.size() + len > options.max_fetch_bytes) {
        too_big = true;
        return false;
      }
      body.append(data, len);
      return true;
    });
    if (too_big) throw ProtocolError(400, "remote image exceeds " + std::to_string(options.max_fetch_bytes) + " bytes", "invalid_request_error", param, "image_too_large");
    if (!res) throw ProtocolError(400, "cannot fetch the image: " + httplib::to_string(res.error()), "invalid_request_error", param, "image_fetch_failed");
    if (res->status != 200) throw ProtocolError(400, "fetching the image gave HTTP " + std::to_string(res->status), "invalid_request_error", param, "image_fetch_failed");
    return std::vector<uint8_t>(body.begin(), body.end());
  }

  // Decode -> protect -> re-encode (JPEG stays JPEG; everything else becomes PNG). Fails closed.
  std::string protect_url(const std::string& url, const std::string& param, std::vector<ImageAudit>& audit_rows) {
    auto start = std::chrono::steady_clock::now();
    auto bytes = image_bytes(url, param);
    ImageAudit row;
    row.sha256_in = sha256_hex(bytes.data(), bytes.size());
    row.bytes_in = bytes.size();
    std::string out;
    if (cache.get(row.sha256_in, out)) {
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
      auto protector = protectors.acquire();
      cv::Mat safe;
      try {
        safe = protector->protect(image);
      } catch (const std::exception& e) {
        protectors.release(std::move(protector));
        throw ProtocolError(400, std::string("the image could not be protected: ") + one_line(e.what()), "invalid_request_error", param,
                            "protection_failed");
      }
      protectors.release(std::move(protector));
      bool jpeg = probe_image_header(bytes).format == ImageFormat::kJpeg;
      auto encoded = encode_image(safe, jpeg ? ImageFormat::kJpeg : ImageFormat::kPng, 92);
      out = openai::data_url(encoded, jpeg ? "image/jpeg" : "image/png");
      cache.put(row.sha256_in, out);
      ++images;
    }
    auto comma = out.find(',');
    row.sha256_out = sha256_hex(out.data() + comma + 1, out.size() - comma - 1);
    row.bytes_out = out.size() - comma - 1;
    row.protect_ms = ms_since(start);
    audit_rows.push_back(row);
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

  void handle_post(const httplib::Request& req, httplib::Response& res, bool responses_api) {
    auto start = std::chrono::steady_clock::now();
    uint64_t id = next_id++;
    ++requests;
    json audit_entry = {{"request_id", id}, {"route", req.path}, {"protector", protectors.spec()}};
    std::vector<ImageAudit> rows;
    auto finish_audit = [&](int status, const std::string& outcome) {
      json imgs = json::array();
      for (const auto& r : rows)
        imgs.push_back({{"sha256_in", r.sha256_in}, {"sha256_out", r.sha256_out}, {"bytes_in", r.bytes_in}, {"bytes_out", r.bytes_out},
                        {"protect_ms", r.protect_ms}, {"cached", r.cached}});
      audit_entry["time"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      audit_entry["images"] = imgs;
      audit_entry["status"] = status;
      audit_entry["outcome"] = outcome;
      audit_entry["total_ms"] = ms_since(start);
      write_audit(audit_entry);
    };
    if (!authorised(req, res)) {
      ++refused;
      finish_audit(401, "refused");
      return;
    }
    json body = json::parse(req.body, nullptr, false);
    try {
      if (body.is_discarded()) throw ProtocolError(400, "request body is not valid JSON");
      if (body.is_object() && body.contains("stream") && !body["stream"].is_boolean() && !body["stream"].is_null())
        throw ProtocolError(400, "'stream' must be true or false", "invalid_request_error", "stream");
      auto rewrite = [&](const std::string& url, const std::string& param) { return protect_url(url, param, rows); };
      if (responses_api) serve::rewrite_responses_images(body, rewrite, options.allow_unprotected_parts, options.max_images);
      else serve::rewrite_chat_images(body, rewrite, options.allow_unprotected_parts, options.max_images);
    } catch (const ProtocolError& e) {
      ++refused;
      send_error(res, e.status(), e.what(), e.type(), e.param(), e.code());
      finish_audit(e.status(), "refused");
      return;
    }
    // Every image in `body` is now protected; only now may anything leave.
    std::string path = upstream.path + (responses_api ? "/responses" : "/chat/completions");
    std::string payload = body.dump();
    auto headers = forward_headers(req);
    bool stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
    if (!stream) {
      auto client = pool.borrow();
      auto up = client->Post(path, headers, payload, "application/json");
      if (up) client.mark_sound();
      if (!up) {
        bool timeout = up.error() == httplib::Error::Read;
        send_error(res, timeout ? 504 : 502, "upstream " + upstream.origin + ": " + httplib::to_string(up.error()),
                   timeout ? "timeout" : "upstream_error");
        finish_audit(res.status, "upstream_failed");
        return;
      }
      if (up->status != 200) relay_error(up->status, up->body, res);
      else res.set_content(up->body, up->get_header_value("Content-Type").empty() ? "application/json" : up->get_header_value("Content-Type"));
      res.status = up->status;
      finish_audit(up->status, up->status == 200 ? "forwarded" : "upstream_error");
      return;
    }
    relay_stream(path, payload, headers, res, finish_audit);
  }

  // Streams the upstream's SSE answer chunk by chunk. The upstream request runs
  // in its own thread; the status is known before anything is sent back, so an
  // upstream error still becomes a proper error response.
  template <typename Finish>
  void relay_stream(const std::string& path, const std::string& payload, const httplib::Headers& headers, httplib::Response& res,
                    Finish& finish_audit) {
    struct Channel {
      std::mutex m;
      std::condition_variable cv;
      int status = 0;  // 0: not yet known
      bool done = false;
      std::string error;
      std::deque<std::string> chunks;
      std::string content_type = "text/event-stream";
    };
    auto ch = std::make_shared<Channel>();
    auto client = std::make_shared<HttpClientPool::Lease>(pool.borrow());
    std::thread([ch, client, path, payload, headers] {
      httplib::Request up;
      up.method = "POST";
      up.path = path;
      up.headers = headers;
      up.body = payload;
      up.set_header("Content-Type", "application/json");
      up.response_handler = [ch](const httplib::Response& r) {
        std::lock_guard lock(ch->m);
        ch->status = r.status;
        if (r.has_header("Content-Type")) ch->content_type = r.get_header_value("Content-Type");
        ch->cv.notify_all();
        return true;
      };
      up.content_receiver = [ch](const char* data, size_t len, uint64_t, uint64_t) {
        std::lock_guard lock(ch->m);
        ch->chunks.emplace_back(data, len);
        ch->cv.notify_all();
        return true;
      };
      auto result = (*client)->send(up);
      if (result) client->mark_sound();
      std::lock_guard lock(ch->m);
      if (!result && ch->status == 0) ch->error = httplib::to_string(result.error());
      ch->done = true;
      ch->cv.notify_all();
    }).detach();

    std::unique_lock lock(ch->m);
    ch->cv.wait(lock, [&] { return ch->status != 0 || ch->done; });
    if (ch->status == 0) {
      send_error(res, 502, "upstream " + upstream.origin + ": " + ch->error, "upstream_error");
      finish_audit(502, "upstream_failed");
      return;
    }
    if (ch->status != 200) {
      ch->cv.wait(lock, [&] { return ch->done; });
      std::string body;
      for (const auto& c : ch->chunks) body += c;
      relay_error(ch->status, body, res);
      finish_audit(ch->status, "upstream_error");
      return;
    }
    lock.unlock();
    finish_audit(200, "streamed");
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(ch->content_type, [ch, client](size_t, httplib::DataSink& sink) {
      std::unique_lock l(ch->m);
      ch->cv.wait(l, [&] { return !ch->chunks.empty() || ch->done; });
      while (!ch->chunks.empty()) {
        std::string c = std::move(ch->chunks.front());
        ch->chunks.pop_front();
        l.unlock();
        if (!sink.write(c.data(), c.size())) return false;
        l.lock();
      }
      if (ch->done) sink.done();
      return true;
    });
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
    if (up->status != 200) relay_error(up->status, up->body, res);
    else res.set_content(up->body, "application/json");
    res.status = up->status;
  }
};

PrivacyProxy::PrivacyProxy(ProxyOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto* impl = impl_.get();
  auto& s = impl->server;
  int threads = impl->options.workers > 0 ? impl->options.workers : 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(impl->options.max_body_bytes);
  s.set_read_timeout(static_cast<time_t>(impl->options.request_timeout_s), 0);
  s.set_write_timeout(static_cast<time_t>(impl->options.upstream_timeout_s), 0);
  s.Post("/v1/chat/completions", [impl](const httplib::Request& q, httplib::Response& r) { impl->handle_post(q, r, false); });
  s.Post("/v1/responses", [impl](const httplib::Request& q, httplib::Response& r) { impl->handle_post(q, r, true); });
  s.Get("/v1/models", [impl](const httplib::Request& q, httplib::Response& r) { impl->handle_models(q, r); });
  s.Get("/health", [impl](const httplib::Request&, httplib::Response& r) {
    r.set_content(json{{"status", "ok"}, {"protector", impl->protectors.spec()}}.dump(), "application/json");
  });
  serve::install_error_handlers(s);
  if (!impl->options.audit_log.empty()) {
    if (impl->options.audit_log.has_parent_path()) std::filesystem::create_directories(impl->options.audit_log.parent_path());
    impl->audit.open(impl->options.audit_log, std::ios::app);
    if (!impl->audit) throw Error(impl->options.audit_log.string() + ": cannot open the audit log");
  }
}

PrivacyProxy::~PrivacyProxy() { stop(); }

void PrivacyProxy::bind() { impl_->port = serve::bind_server(impl_->server, impl_->options.host, impl_->options.port); }

void PrivacyProxy::serve() { impl_->server.listen_after_bind(); }
void PrivacyProxy::stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}
int PrivacyProxy::port() const { return impl_->port; }
ProxyStats PrivacyProxy::stats() const {
  return {impl_->requests.load(), impl_->images.load(), impl_->cache_hits.load(), impl_->refused.load()};
}

}  // namespace scrim
