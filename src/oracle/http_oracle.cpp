#include "scrim/oracle/http_oracle.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <regex>

#include <httplib.h>

#include "scrim/core/error.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/oracle/oracle_error.h"

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

namespace {

// A counting gate for the concurrency limit.
class Gate {
 public:
  explicit Gate(int n) : free_(std::max(1, n)) {}
  void enter() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void leave() {
    {
      std::lock_guard lock(m_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int free_;
};

}  // namespace

struct HttpOracle::Impl {
  HttpOracleOptions options;
  std::string origin;  // scheme://host:port
  std::string path;    // base path, e.g. /v1
  std::unique_ptr<Gate> gate;
};

HttpOracle::HttpOracle(HttpOracleOptions options) : impl_(std::make_unique<Impl>()) {
  static const std::regex url_re(R"(^(https?://[^/]+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(options.base_url, m, url_re))
    throw UsageError("HttpOracle: '" + options.base_url + "' is not an http(s) URL");
  impl_->origin = m[1].str();
  impl_->path = m[2].str();
  while (!impl_->path.empty() && impl_->path.back() == '/') impl_->path.pop_back();
  if (options.model.empty()) throw UsageError("HttpOracle: no model name (use URL#model)");
  impl_->gate = std::make_unique<Gate>(options.max_concurrency);
  impl_->options = std::move(options);
}

HttpOracle::~HttpOracle() = default;

std::string HttpOracle::model_id() const { return "openai:" + impl_->origin + impl_->path + "#" + impl_->options.model; }

OracleReply HttpOracle::query(const OracleRequest& request) {
  const auto& o = impl_->options;
  std::string body = openai::make_chat_request(request, o.model).dump();
  impl_->gate->enter();
  struct Leave {
    Gate& g;
    ~Leave() { g.leave(); }
  } leave{*impl_->gate};

  httplib::Client client(impl_->origin);
  auto secs = [](double s) { return std::chrono::microseconds(static_cast<int64_t>(s * 1e6)); };
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(secs(o.connect_timeout_s)));
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(secs(o.read_timeout_s)));
  client.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(secs(o.read_timeout_s)));
  httplib::Headers headers = {{"Accept", "application/json"}};
  if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);

  auto start = std::chrono::steady_clock::now();
  auto res = client.Post(impl_->path + "/chat/completions", headers, body, "application/json");
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::string where = impl_->origin + impl_->path;
  if (!res) {
    auto err = res.error();
    bool timeout = err == httplib::Error::Read || err == httplib::Error::ConnectionTimeout;
    throw OracleError(timeout ? OracleError::Kind::kTimeout : OracleError::Kind::kConnection,
                      where + ": " + httplib::to_string(err));
  }
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
