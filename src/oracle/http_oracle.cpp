#include "scrim/oracle/http_oracle.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <regex>

#include <httplib.h>

#include "scrim/core/error.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/oracle/oracle_error.h"
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

HttpOracle::HttpOracle(HttpOracleOptions options) : impl_(std::make_unique<Impl>()) {
  static const std::regex url_re(R"(^(https?://[^/]+)(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(options.base_url, m, url_re))
    throw UsageError("HttpOracle: '" + options.base_url + "' is not an http(s) URL");
  impl_->path = m[2].str();
  while (!impl_->path.empty() && impl_->path.back() == '/') impl_->path.pop_back();
  if (options.model.empty()) throw UsageError("HttpOracle: no model name (use URL#model)");
  HttpClientSettings settings;
  settings.connect_timeout_s = options.connect_timeout_s;
  settings.read_timeout_s = settings.write_timeout_s = options.read_timeout_s;
  settings.keep_alive = options.keep_alive;
  int slots = std::max(1, options.max_concurrency);
  impl_->pool = std::make_unique<HttpClientPool>(m[1].str(), settings, slots, static_cast<size_t>(slots));
  impl_->options = std::move(options);
}

HttpOracle::~HttpOracle() = default;

std::string HttpOracle::model_id() const { return "openai:" + impl_->pool->origin() + impl_->path + "#" + impl_->options.model; }

OracleReply HttpOracle::query(const OracleRequest& request) {
  const auto& o = impl_->options;
  std::string body = openai::make_chat_request(request, o.model).dump();
  auto client = impl_->pool->borrow();  // given back for reuse only after a clean exchange
  httplib::Headers headers = {{"Accept", "application/json"}};
  if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);

  auto start = std::chrono::steady_clock::now();
  auto res = client->Post(impl_->path + "/chat/completions", headers, body, "application/json");
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::string where = impl_->pool->origin() + impl_->path;
  if (!res) {
    auto err = res.error();
    bool timeout = err == httplib::Error::Read || err == httplib::Error::ConnectionTimeout;
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
