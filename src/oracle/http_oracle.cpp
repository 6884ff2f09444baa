#include "scrim/oracle/http_oracle.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "scrim/core/error.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/oracle/oracle_error.h"
#include "oracle/call_deadline.h"
#include "oracle/http_client_pool.h"

namespace scrim {

double parse_retry_after(const std::string& retry_after, const std::string& retry_after_ms) {
  constexpr double kCap = 120.0;
  try {
    if (!retry_after_ms.empty()) return std::min(kCap, std::max(0.0, std::stod(retry_after_ms) / 1000.0));
    if (!retry_after.empty() && std::isdigit(static_cast<unsigned char>(retry_after[0])))
      return std::min(kCap, std::max(0.0, std::stod(retry_after)));
  } catch (const std::exception&) {
  }
  return -1.0;
}

struct HttpOracle::Impl {
  HttpOracleOptions options;
  std::string path;  // base path, e.g. /v1
  // At most max_concurrency clients, kept alive between queries unless
  // options.keep_alive is off.
  std::unique_ptr<HttpClientPool> pool;
};

namespace {

// Splits "http(s)://host[:port][/path]" into origin and path by hand (std::regex
// recurses once per character: a long --mllm URL overflowed the stack).
bool split_http_url(const std::string& url, std::string& origin, std::string& path) {
  size_t scheme_end = url.rfind("https://", 0) == 0 ? 8 : url.rfind("http://", 0) == 0 ? 7 : 0;
  if (scheme_end == 0) return false;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ') return false;  // no spaces or control characters
  size_t slash = url.find('/', scheme_end);
  if (slash == scheme_end) return false;  // no host
  origin = url.substr(0, slash);
  path = slash == std::string::npos ? "" : url.substr(slash);
  return true;
}

std::string shortened(const std::string& s) { return s.size() <= 100 ? s : s.substr(0, 100) + "..."; }

// Cuts an HTTP exchange short at the call's deadline. cpp-httplib's timeouts
// bound each read, not the exchange: a server that trickles a byte at a time
// would otherwise hold the call past its deadline.
class DeadlineWatchdog {
 public:
  DeadlineWatchdog(httplib::Client& client, CallClock::time_point deadline) {
    if (deadline == CallClock::time_point::max()) return;
    thread_ = std::thread([this, &client, deadline] {
      std::unique_lock lock(mutex_);
      if (wake_.wait_until(lock, deadline, [this] { return done_; })) return;
      // stop() shuts the socket down; repeated in case the exchange was still connecting.
      while (!done_) {
        client.stop();
        wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; });
      }
    });
  }
  ~DeadlineWatchdog() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  DeadlineWatchdog(const DeadlineWatchdog&) = delete;
  DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

HttpOracle::HttpOracle(HttpOracleOptions options) : impl_(std::make_unique<Impl>()) {
  std::string origin;
  if (!split_http_url(options.base_url, origin, impl_->path))
    throw UsageError("HttpOracle: '" + shortened(options.base_url) + "' is not an http(s) URL");
  while (!impl_->path.empty() && impl_->path.back() == '/') impl_->path.pop_back();
  if (options.model.empty()) throw UsageError("HttpOracle: no model name (use URL#model)");
  HttpClientSettings settings;
  settings.connect_timeout_s = options.connect_timeout_s;
  settings.read_timeout_s = settings.write_timeout_s = options.read_timeout_s;
  settings.keep_alive = options.keep_alive;
  int slots = std::max(1, options.max_concurrency);
  impl_->pool = std::make_unique<HttpClientPool>(origin, settings, slots, static_cast<size_t>(slots));
  impl_->options = std::move(options);
}

HttpOracle::~HttpOracle() = default;

std::string HttpOracle::model_id() const { return "openai:" + impl_->pool->origin() + impl_->path + "#" + impl_->options.model; }

OracleReply HttpOracle::query(const OracleRequest& request) {
  const auto& o = impl_->options;
  std::string body = openai::make_chat_request(request, o.model).dump();
  std::string where = impl_->pool->origin() + impl_->path;
  auto client = impl_->pool->borrow();  // given back for reuse only after a clean exchange
  // Within the call's deadline (RetryingOracle's): every wait is clamped to the time left.
  double left = call_seconds_left();
  if (left <= 0) throw OracleError(OracleError::Kind::kTimeout, where + ": the call's deadline has passed");
  auto clamp = [left](double configured_s) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(std::min(configured_s, left)));
  };
  client->set_connection_timeout(clamp(o.connect_timeout_s));
  client->set_read_timeout(clamp(o.read_timeout_s));
  client->set_write_timeout(clamp(o.read_timeout_s));
  httplib::Headers headers = {{"Accept", "application/json"}};
  if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);

  auto start = std::chrono::steady_clock::now();
  auto post = [&] {
    DeadlineWatchdog watchdog(*client, call_deadline());
    return client->Post(impl_->path + "/chat/completions", headers, body, "application/json");
  };
  auto res = post();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!res) {
    auto err = res.error();
    bool timeout = err == httplib::Error::Read || err == httplib::Error::Write || err == httplib::Error::ConnectionTimeout;
    throw OracleError(timeout ? OracleError::Kind::kTimeout : OracleError::Kind::kConnection,
                      where + ": " + httplib::to_string(err));
  }
  client.mark_sound();  // a complete HTTP exchange: the connection is sound
  if (res->status != 200) {
    auto e = openai::parse_service_error(res->body);
    double retry = parse_retry_after(res->get_header_value("Retry-After"), res->get_header_value("retry-after-ms"));
    bool quota = e.code == "insufficient_quota" || e.type == "insufficient_quota";
    throw OracleError(quota ? OracleError::Kind::kQuota : OracleError::Kind::kHttp,
                      where + ": HTTP " + std::to_string(res->status) + ": " + one_line(e.message), res->status, retry);
  }
  OracleReply reply;
  try {
    reply = openai::parse_chat_response(res->body);
  } catch (const OracleError& e) {
    throw OracleError(OracleError::Kind::kMalformed, where + ": " + e.what());
  }
  reply.latency_ms = ms;
  return reply;
}

}  // namespace scrim
