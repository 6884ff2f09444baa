#include "scrim/reference/oracle_factory.h"

#include <cstdlib>

#include "scrim/core/error.h"
#include "scrim/oracle/http_oracle.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim {
namespace {

struct Endpoint {
  bool https = false;
  std::string host;
};

Endpoint parse_endpoint(const std::string& base_url) {
  Endpoint e;
  size_t start = base_url.rfind("https://", 0) == 0 ? 8 : base_url.rfind("http://", 0) == 0 ? 7 : 0;
  if (start == 0) throw UsageError("--mllm openai:BASE_URL needs an http(s) URL");
  e.https = start == 8;
  std::string authority = base_url.substr(start, base_url.find('/', start) - start);
  if (authority.find('@') != std::string::npos)
    throw UsageError("--mllm openai:BASE_URL must not carry credentials (user:password@); set SCRIM_API_KEY instead");
  if (!authority.empty() && authority.front() == '[') e.host = authority.substr(1, authority.find(']') - 1);
  else e.host = authority.substr(0, authority.find(':'));
  return e;
}

bool loopback_host(const std::string& h) { return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0; }

// SCRIM_API_KEY is the key for the endpoint the user named; OPENAI_API_KEY
// goes to OpenAI's own API only. Neither crosses the network in clear text.
std::string api_key_for(const std::string& base_url) {
  Endpoint e = parse_endpoint(base_url);
  std::string key;
  if (const char* k = std::getenv("SCRIM_API_KEY"); k && *k) key = k;
  else if (const char* k2 = std::getenv("OPENAI_API_KEY"); k2 && *k2 && e.https && e.host == "api.openai.com") key = k2;
  if (!key.empty() && !e.https && !loopback_host(e.host))
    throw UsageError("refusing to send the API key over plain http to " + e.host + " (use https, or unset SCRIM_API_KEY)");
  return key;
}

}  // namespace

OracleStack make_oracle(const std::string& spec, const OracleStackOptions& o) {
  std::shared_ptr<Oracle> backend;
  auto colon = spec.find(':');
  std::string kind = spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "reference") {
    if (rest.empty()) throw UsageError("--mllm reference:MODEL_FILE needs a model file");
    backend = ReferenceMllm::load(rest);
  } else if (kind == "openai") {
    auto hash = rest.rfind('#');
    if (hash == std::string::npos || hash + 1 == rest.size())
      throw UsageError("--mllm openai:BASE_URL#MODEL needs a model name after '#'");
    HttpOracleOptions h;
    h.base_url = rest.substr(0, hash);
    h.model = rest.substr(hash + 1);
    h.api_key = api_key_for(h.base_url);
    h.max_concurrency = o.concurrency;
    h.connect_timeout_s = o.connect_timeout_s;
    h.read_timeout_s = o.read_timeout_s;
    backend = std::make_shared<HttpOracle>(h);
  } else {
    throw UsageError("unknown MLLM spec '" + spec + "' (use reference:MODEL_FILE or openai:BASE_URL#MODEL)");
  }
  return wrap_oracle(std::move(backend), o);
}

}  // namespace scrim
