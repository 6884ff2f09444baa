// What the MLLM answers: its text and, when the service gives them, the
// log-probs of each token's top alternatives. Here, below the oracle, because
// the task scorers read it (the oracle layer produces it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace scrim {

struct TokenAlternative {
  std::string token;
  double logprob = 0.0;
};

struct TokenLogprob {
  std::string token;
  double logprob = 0.0;
  std::vector<TokenAlternative> top;  // the most likely tokens at this position
};

struct OracleUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

struct OracleReply {
  std::string text;
  std::vector<TokenLogprob> logprobs;  // empty when the service gave none
  OracleUsage usage;
  double latency_ms = 0.0;
  bool from_cache = false;
};

}  // namespace scrim
