// The black-box MLLM, as every consumer sees it (scorers, trainer, evaluator,
// proxy): a request of images + prompt + options in, a reply of text (+ token
// log-probs when the service gives them) out. Backends and decorators (cache,
// budget, retry, rate limit, faults) implement the same interface and wrap one
// another, like leveldb's Env.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "scrim/task/oracle_reply.h"

namespace scrim {

enum class ImageEncoding { kPng, kJpeg };  // PNG for training probes: JPEG erases small perturbations

struct OracleOptions {
  int max_tokens = 16;           // answers are short
  double temperature = 0.0;      // deterministic answers by default
  int top_logprobs = 5;          // 0: do not ask for log-probs
  ImageEncoding encoding = ImageEncoding::kPng;
  int jpeg_quality = 90;         // with kJpeg
  std::string detail = "auto";   // OpenAI image detail: low, high or auto
};

struct OracleRequest {
  std::vector<cv::Mat> images;   // 8-bit BGR; several for video frames
  std::string prompt;
  OracleOptions options;
};

class Oracle {
 public:
  virtual ~Oracle() = default;
  // Answers one request. Throws scrim::OracleError on failure. Thread-safe.
  virtual OracleReply query(const OracleRequest& request) = 0;
  // A stable name for the model behind this oracle (part of cache keys).
  virtual std::string model_id() const = 0;
};

// Runs requests with at most `concurrency` in flight; replies in request order.
// The first failure is rethrown after the in-flight requests finish.
std::vector<OracleReply> query_batch(Oracle& oracle, const std::vector<OracleRequest>& requests, int concurrency);

}  // namespace scrim
