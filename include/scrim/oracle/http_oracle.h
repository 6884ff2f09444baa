// The OpenAI-compatible HTTP backend: chat completions with image_url data
// URLs, against any base URL (OpenAI, llama.cpp server, vLLM, Ollama).
// One attempt per query: retries belong to RetryingOracle, which reads the
// status and Retry-After this backend reports in OracleError.
#pragma once

#include <memory>
#include <string>

#include "scrim/oracle/oracle.h"

namespace scrim {

struct HttpOracleOptions {
  std::string base_url;            // e.g. http://127.0.0.1:8081/v1 or https://api.openai.com/v1
  std::string model;               // the "model" field sent
  std::string api_key;             // sent as "Authorization: Bearer"; never logged or stored
  double connect_timeout_s = 10;   // TCP/TLS connect
  double read_timeout_s = 120;     // waiting for the reply
  int max_concurrency = 4;         // requests in flight at once
  bool keep_alive = true;          // reuse connections between queries
};

class HttpOracle : public Oracle {
 public:
  explicit HttpOracle(HttpOracleOptions options);
  ~HttpOracle() override;
  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses a Retry-After / retry-after-ms pair of header values into seconds
// (capped at 120), or -1 when neither is usable. HTTP dates are not honoured.
double parse_retry_after(const std::string& retry_after, const std::string& retry_after_ms);

}  // namespace scrim
