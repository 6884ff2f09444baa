#include "method/batch_share.h"

#include "scrim/distributed/shard.h"
#include "scrim/oracle/oracle_error.h"

namespace scrim::method {

BatchShare::BatchShare(ProcessGroup* group, int64_t total) : group_(group), end_(total), total_(total) {
  if (!distributed()) return;
  auto [b, e] = shard_range(static_cast<size_t>(total), Shard{group->rank(), group->world_size()});
  begin_ = static_cast<int64_t>(b);
  end_ = static_cast<int64_t>(e);
}

torch::Tensor BatchShare::padded(const torch::Tensor& local) const {
  if (!distributed()) return local;
  auto sizes = local.sizes().vec();
  sizes[0] = total_;
  auto out = torch::zeros(sizes, local.options());
  if (size() > 0) out.slice(0, begin_, end_).copy_(local);
  return out;
}

void BatchShare::sum(std::vector<torch::Tensor>& tensors) const {
  if (distributed()) group_->all_reduce(tensors, ReduceOp::kSum);
}

torch::Tensor BatchShare::gather(const torch::Tensor& local) const {
  if (!distributed()) return local;
  std::vector<torch::Tensor> t{padded(local.detach().contiguous())};
  sum(t);
  return t[0];
}

void StepFailures::keep(std::exception_ptr error) {
  failed_ = error;
  code_ = 1000;  // not an OracleError: a failure of another kind
  try {
    std::rethrow_exception(error);
  } catch (const OracleError& e) {
    code_ = 1 + static_cast<int64_t>(e.kind());
  } catch (...) {
  }
}

torch::Tensor StepFailures::codes(const BatchShare& share) const {
  auto t = torch::zeros({share.world_size()}, torch::kLong);
  t[share.rank()] = code_;
  return t;
}

void StepFailures::check(const BatchShare& share, const torch::Tensor& summed) const {
  if (failed_) std::rethrow_exception(failed_);
  auto c = summed.to(torch::kCPU, torch::kLong);
  for (int r = 0; r < share.world_size(); ++r) {
    int64_t code = c[r].item<int64_t>();
    if (code == 0) continue;
    auto kind = code >= 1 && code <= 1 + static_cast<int64_t>(OracleError::Kind::kInvalidRequest) ? static_cast<OracleError::Kind>(code - 1)
                                                                                                  : OracleError::Kind::kConnection;
    std::string what = kind == OracleError::Kind::kBudget ? "found the query budget spent" : "failed (its own error says why)";
    throw OracleError(kind, "rank " + std::to_string(r) + "'s MLLM queries " + what + "; every rank stops the step");
  }
}

}  // namespace scrim::method
