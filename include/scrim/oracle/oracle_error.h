// Failures of the black-box MLLM, with enough detail to decide on a retry.
#pragma once

#include <string>

#include "scrim/core/error.h"

namespace scrim {

class OracleError : public Error {
 public:
  enum class Kind {
    kConnection,  // could not connect, or the connection broke
    kTimeout,     // connect or read timeout
    kHttp,        // the service answered with an error status
    kMalformed,   // the reply could not be parsed
    kBudget,      // the query budget is spent (never retried)
    kQuota,       // insufficient_quota (never retried)
    kInvalidRequest,  // the request itself is wrong (never retried)
  };
  OracleError(Kind kind, const std::string& message, int status = 0, double retry_after_s = -1)
      : Error(message), kind_(kind), status_(status), retry_after_s_(retry_after_s) {}
  Kind kind() const { return kind_; }
  int status() const { return status_; }                // HTTP status, 0 when none
  double retry_after_s() const { return retry_after_s_; }  // from the service, -1 when absent
  // 408, 409, 429, 5xx, connection errors and timeouts are worth retrying.
  bool retryable() const;

 private:
  Kind kind_;
  int status_;
  double retry_after_s_;
};

}  // namespace scrim
