// Serves any Oracle over the OpenAI chat-completions and Responses APIs: what
// `scrim reference serve` runs, so the HTTP backend and the proxy are tested
// end to end against a real server on loopback.
//
// Routes: POST /v1/chat/completions (plain and SSE streaming, logprobs),
// POST /v1/responses (message items with input_text / input_image parts;
// plain and streamed events), GET /v1/models, GET /health; every error is an
// OpenAI-shaped JSON body.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <vector>

#include "scrim/media/image_io.h"
#include "scrim/oracle/faulty_oracle.h"
#include "scrim/oracle/oracle.h"

namespace scrim {

struct OracleServerOptions {
  std::string host = "127.0.0.1";
  int port = 8081;                          // 0: any free port (see OracleServer::port())
  std::string model_name;                   // reported by /v1/models (default: the oracle's model_id)
  ImageReadOptions image_limits;            // per decoded image
  size_t max_body_bytes = 64 * 1024 * 1024; // larger bodies get 413
  int max_images = 16;                      // image parts per request
  // Fault injection at the HTTP level, for client tests: completion request i
  // misbehaves as fault_schedule[i] (timeout: answers after fault_delay_s;
  // 429 with Retry-After; 500; a malformed or truncated 200 body).
  std::vector<Fault> fault_schedule;
  double fault_delay_s = 3.0;
  double fault_retry_after_s = 1.0;
};

class OracleServer {
 public:
  OracleServer(std::shared_ptr<Oracle> oracle, OracleServerOptions options);
  ~OracleServer();
  OracleServer(const OracleServer&) = delete;
  OracleServer& operator=(const OracleServer&) = delete;

  // Binds the socket; throws scrim::Error when the address is taken.
  void bind();
  // Serves until stop() is called (from any thread or a signal watcher).
  void serve();
  void stop();
  int port() const;
  // Chat completions and responses answered so far (for tests and logs).
  int64_t completions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scrim
