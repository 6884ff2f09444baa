#include "optim/critical_history.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "scrim/core/error.h"

namespace scrim::optim {

HistoryMode parse_history_mode(const std::string& t) {
  if (t == "none") return HistoryMode::kNone;
  if (t == "prior") return HistoryMode::kPrior;
  if (t == "subspace") return HistoryMode::kSubspace;
  if (t == "full") return HistoryMode::kFull;
  throw UsageError("--history must be none, prior, subspace or full (got '" + t + "')");
}

void CriticalHistory::record(const std::string& id, const torch::Tensor& estimate, double criticality) {
  auto e = estimate.detach().to(torch::kFloat32).flatten().clone();
  per_sample_[id] = {e, criticality};
  if (criticality > options_.critical_threshold && e.norm().item<double>() > 0) {
    recent_.push_back(e);
    while (static_cast<int>(recent_.size()) > options_.memory) recent_.pop_front();
  }
}

std::optional<torch::Tensor> CriticalHistory::prior(const std::string& id) const {
  if (!uses_prior()) return std::nullopt;
  auto it = per_sample_.find(id);
  if (it == per_sample_.end() || it->second.second <= options_.critical_threshold) return std::nullopt;
  return it->second.first;
}

torch::Tensor CriticalHistory::subspace() const {
  if (!uses_subspace() || recent_.empty()) return {};
  auto m = torch::stack(std::vector<torch::Tensor>(recent_.begin(), recent_.end()));  // [M, D]
  // The leading right-singular vectors span the directions the estimates share.
  auto svd = torch::linalg_svd(m, /*full_matrices=*/false);
  auto s = std::get<1>(svd);
  auto vh = std::get<2>(svd);
  int64_t k = std::min<int64_t>(options_.subspace_rank, vh.size(0));
  // Drop numerically empty directions.
  double top = s[0].item<double>();
  while (k > 1 && s[k - 1].item<double>() < 1e-6 * top) --k;
  return vh.slice(0, 0, k);
}

torch::Tensor CriticalHistory::sample(const std::vector<int64_t>& shape, torch::Generator& gen) const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  auto iso = at::normal(0.0, 1.0, {n}, gen);
  auto u = subspace();
  if (!u.defined() || u.size(1) != n) return iso.view(shape);
  int64_t k = u.size(0);
  double a = options_.isotropic_weight;
  auto guided = torch::matmul(at::normal(0.0, 1.0, {k}, gen), u);  // U^T e_k
  return (std::sqrt(a) * iso + std::sqrt((1 - a) * static_cast<double>(n) / k) * guided).view(shape);
}

std::vector<int> CriticalHistory::allocate(const std::vector<double>& scout, int budget, int minimum) const {
  size_t n = scout.size();
  std::vector<int> out(n, 0);
  if (n == 0 || budget <= 0) return out;
  if (options_.mode != HistoryMode::kFull) {
    for (size_t i = 0; i < n; ++i) out[i] = budget / static_cast<int>(n) + (static_cast<int>(i) < budget % static_cast<int>(n) ? 1 : 0);
    return out;
  }
  int left = budget;
  for (size_t i = 0; i < n && left > 0; ++i) {
    out[i] = std::min(minimum, left);
    left -= out[i];
  }
  std::vector<size_t> critical;
  for (size_t i = 0; i < n; ++i)
    if (scout[i] > options_.critical_threshold) critical.push_back(i);
  if (critical.empty()) {  // nothing flipped: spread the rest evenly
    for (size_t i = 0; left > 0; i = (i + 1) % n, --left) ++out[i];
    return out;
  }
  std::stable_sort(critical.begin(), critical.end(), [&](size_t a, size_t b) { return scout[a] > scout[b]; });
  for (size_t j = 0; left > 0; j = (j + 1) % critical.size(), --left) ++out[critical[j]];
  return out;
}

std::map<std::string, torch::Tensor> CriticalHistory::state() const {
  std::map<std::string, torch::Tensor> s;
  for (const auto& [id, v] : per_sample_) {
    s["sample/" + id] = v.first;
    s["criticality/" + id] = torch::tensor(v.second, torch::kFloat64);
  }
  for (size_t i = 0; i < recent_.size(); ++i) s["recent/" + std::to_string(1000000 + i)] = recent_[i];
  return s;
}

void CriticalHistory::load_state(const std::map<std::string, torch::Tensor>& s) {
  per_sample_.clear();
  recent_.clear();
  for (const auto& [key, t] : s) {
    if (key.rfind("sample/", 0) == 0) {
      std::string id = key.substr(7);
      per_sample_[id].first = t;
    } else if (key.rfind("criticality/", 0) == 0) {
      per_sample_[key.substr(12)].second = t.item<double>();
    } else if (key.rfind("recent/", 0) == 0) {
      recent_.push_back(t);  // keys sort in insertion order (fixed-width numbers)
    }
  }
}

}  // namespace scrim::optim
