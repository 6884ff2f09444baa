#include "scrim/oracle/oracle_factory.h"

#include <cstdlib>

#include "scrim/core/error.h"
#include "scrim/oracle/http_oracle.h"
#include "scrim/oracle/rate_limited_oracle.h"
#include "scrim/oracle/reference_mllm.h"

namespace scrim {

OracleStack make_oracle(const std::string& spec, const OracleStackOptions& o) {
  OracleStack s;
  auto colon = spec.find(':');
  std::string kind = spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "reference") {
    if (rest.empty()) throw UsageError("--mllm reference:MODEL_FILE needs a model file");
    s.backend = ReferenceMllm::load(rest);
  } else if (kind == "openai") {
    auto hash = rest.rfind('#');
    if (hash == std::string::npos || hash + 1 == rest.size())
      throw UsageError("--mllm openai:BASE_URL#MODEL needs a model name after '#'");
    HttpOracleOptions h;
    h.base_url = rest.substr(0, hash);
    h.model = rest.substr(hash + 1);
    if (const char* k = std::getenv("SCRIM_API_KEY")) h.api_key = k;
    else if (const char* k2 = std::getenv("OPENAI_API_KEY")) h.api_key = k2;
    h.max_concurrency = o.concurrency;
    h.connect_timeout_s = o.connect_timeout_s;
    h.read_timeout_s = o.read_timeout_s;
    s.backend = std::make_shared<HttpOracle>(h);
  } else {
    throw UsageError("unknown MLLM spec '" + spec + "' (use reference:MODEL_FILE or openai:BASE_URL#MODEL)");
  }
  std::shared_ptr<Oracle> top = s.backend;
  if (o.per_second > 0 || o.per_minute > 0) top = std::make_shared<RateLimitedOracle>(top, o.per_second, o.per_minute);
  s.budget = std::make_shared<BudgetOracle>(top, o.budget);
  s.retry = std::make_shared<RetryingOracle>(s.budget, o.retry);
  top = s.retry;
  if (!o.cache.empty()) {
    s.cache = std::make_shared<CachedOracle>(top, o.cache);
    top = s.cache;
  }
  s.oracle = top;
  return s;
}

}  // namespace scrim
