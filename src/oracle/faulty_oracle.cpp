#include "scrim/oracle/faulty_oracle.h"

#include "scrim/oracle/oracle_error.h"

namespace scrim {

void raise_fault(Fault fault, double retry_after_s) {
  using K = OracleError::Kind;
  switch (fault) {
    case Fault::kTimeout: throw OracleError(K::kTimeout, "injected fault: read timeout");
    case Fault::kRateLimited: throw OracleError(K::kHttp, "injected fault: HTTP 429: rate limited", 429, retry_after_s);
    case Fault::kServerError: throw OracleError(K::kHttp, "injected fault: HTTP 500: internal error", 500);
    case Fault::kMalformedJson: throw OracleError(K::kMalformed, "injected fault: malformed chat-completions reply: not JSON");
    case Fault::kTruncatedBody: throw OracleError(K::kMalformed, "injected fault: truncated body");
    case Fault::kConnectionReset: throw OracleError(K::kConnection, "injected fault: connection reset");
    case Fault::kNone: break;
  }
  throw OracleError(K::kInvalidRequest, "raise_fault(): kNone is not a fault");
}

FaultyOracle::FaultyOracle(std::shared_ptr<Oracle> inner, std::vector<Fault> schedule, double retry_after_s)
    : inner_(std::move(inner)), schedule_(std::move(schedule)), retry_after_s_(retry_after_s) {}

OracleReply FaultyOracle::query(const OracleRequest& request) {
  auto i = static_cast<size_t>(calls_.fetch_add(1));
  if (i < schedule_.size() && schedule_[i] != Fault::kNone) raise_fault(schedule_[i], retry_after_s_);
  return inner_->query(request);
}

}  // namespace scrim
