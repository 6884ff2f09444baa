#include "method/utility_gradient.h"

#include <cmath>

#include "oracle/reference_whitebox.h"

namespace scrim::method {

torch::Tensor BlackBoxGradient::coarse_direction(const std::vector<int64_t>& shape, torch::Generator& gen) const {
  if (options_.zo.distribution == optim::ProbeDistribution::kRademacher)
    return at::bernoulli(torch::full(shape, 0.5), gen).mul_(2).sub_(1);
  return history_.sample(shape, gen);  // isotropic Gaussian, or Guided-ES mixed with the history subspace
}

UtilityStep BlackBoxGradient::step(const torch::Tensor& x_prime, const std::vector<int64_t>& rows,
                                   const std::vector<std::vector<int64_t>>& groups, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const double mu = options_.zo.mu;
  const size_t n = rows.size();
  const int q = std::max(1, options_.zo.probes);
  const int scout = std::clamp(options_.scout_probes, 1, q);
  auto xd = x_prime.detach().to(torch::kCPU);

  std::vector<torch::Tensor> images(n);              // per sample [T*3, S, S]
  std::vector<std::vector<torch::Tensor>> dirs(n);   // per sample, coarse directions
  std::vector<std::vector<double>> diffs(n);         // per sample, (L+ - L-) per direction
  for (size_t b = 0; b < n; ++b) {
    auto idx = torch::tensor(groups[b], torch::kLong);
    images[b] = xd.index_select(0, idx).reshape({-1, xd.size(2), xd.size(3)});
  }
  auto shape_of = [&](size_t b) { return estimator_.coarse_shape(images[b]); };
  auto id_of = [&](size_t b) { return data_.samples[static_cast<size_t>(rows[b])]->id; };

  // Runs probe pairs along the given coarse directions for several samples in one batch of queries.
  auto probe = [&](const std::vector<std::pair<size_t, std::vector<torch::Tensor>>>& todo, bool with_center) {
    std::vector<std::pair<int64_t, torch::Tensor>> work;
    for (const auto& [b, ds] : todo) {
      std::vector<torch::Tensor> p;
      if (with_center) p.push_back(images[b]);
      for (const auto& d : ds) {
        auto u = estimator_.expand(d, images[b]);
        p.push_back(images[b] + mu * u);
        p.push_back(images[b] - mu * u);
      }
      work.push_back({rows[b], torch::stack(p)});
    }
    return utility_.evaluate_many(work);
  };

  // 1. Scouting: the center and `scout` pairs per sample; the first pair follows the sample's prior when it has one.
  std::vector<std::pair<size_t, std::vector<torch::Tensor>>> todo;
  for (size_t b = 0; b < n; ++b) {
    std::vector<torch::Tensor> ds;
    if (auto prior = history_.prior(id_of(b))) {
      auto p = prior->view(shape_of(b));
      auto rms = p.pow(2).mean().sqrt().item<double>();
      if (rms > 0) ds.push_back(p / rms);
    }
    while (static_cast<int>(ds.size()) < scout) ds.push_back(coarse_direction(shape_of(b), gen));
    todo.push_back({b, ds});
  }
  auto scouted = probe(todo, true);
  UtilityStep out;
  std::vector<double> criticality(n, 0.0);
  for (size_t b = 0; b < n; ++b) {
    const auto& l = scouted[b].loss;
    out.loss += l[0].item<double>();
    for (size_t k = 0; k < todo[b].second.size(); ++k) {
      double d = l[static_cast<int64_t>(1 + 2 * k)].item<double>() - l[static_cast<int64_t>(2 + 2 * k)].item<double>();
      dirs[b].push_back(todo[b].second[k]);
      diffs[b].push_back(d);
      criticality[b] += std::abs(d) / static_cast<double>(todo[b].second.size());
    }
  }
  out.loss /= static_cast<double>(n);
  out.utility = 0;
  for (size_t b = 0; b < n; ++b) out.utility += scouted[b].utility[0].item<double>() / static_cast<double>(n);

  // 2. The rest of the batch's probes, allocated by the history (critical samples first, under `full`).
  int rest = static_cast<int>(n) * (q - scout);
  auto extra = history_.allocate(criticality, rest, 0);
  todo.clear();
  for (size_t b = 0; b < n; ++b) {
    if (extra[b] <= 0) continue;
    std::vector<torch::Tensor> ds;
    for (int k = 0; k < extra[b]; ++k) ds.push_back(coarse_direction(shape_of(b), gen));
    todo.push_back({b, ds});
  }
  if (!todo.empty()) {
    auto more = probe(todo, false);
    for (size_t j = 0; j < todo.size(); ++j) {
      size_t b = todo[j].first;
      const auto& l = more[j].loss;
      for (size_t k = 0; k < todo[j].second.size(); ++k) {
        dirs[b].push_back(todo[j].second[k]);
        diffs[b].push_back(l[static_cast<int64_t>(2 * k)].item<double>() - l[static_cast<int64_t>(2 * k + 1)].item<double>());
      }
    }
  }

  // 3. Per-sample estimates g_b = mean_k (L+ - L-) / (2 mu) u_k; the history records them in coarse coordinates.
  auto g = torch::zeros_like(xd);
  for (size_t b = 0; b < n; ++b) {
    auto coarse = torch::zeros(shape_of(b));
    for (size_t k = 0; k < dirs[b].size(); ++k) coarse += diffs[b][k] / (2 * mu) * dirs[b][k];
    coarse /= static_cast<double>(dirs[b].size());
    double crit = 0;
    for (double d : diffs[b]) crit += std::abs(d) / static_cast<double>(diffs[b].size());
    if (crit > 0) ++out.critical_samples;
    history_.record(id_of(b), coarse, crit);
    auto img = estimator_.expand(coarse, images[b]).view({-1, 3, xd.size(2), xd.size(3)});
    g.index_copy_(0, torch::tensor(groups[b], torch::kLong), img);
  }
  last_ = g;
  out.queries = static_cast<int64_t>(n) + 2 * static_cast<int64_t>(n) * q;
  out.surrogate = optim::ZerothOrderEstimator::surrogate(x_prime, g.to(x_prime.device())) / static_cast<double>(n);
  return out;
}

UtilityStep WhiteBoxGradient::step(const torch::Tensor& x_prime, const std::vector<int64_t>& rows,
                                   const std::vector<std::vector<int64_t>>& groups, uint64_t) {
  std::vector<std::string> prompts, answers;
  for (auto r : rows) {
    prompts.push_back(data_.prompts[static_cast<size_t>(r)]);
    answers.push_back(data_.answers[static_cast<size_t>(r)]);
  }
  auto loss = reference_answer_loss(model_, x_prime.to(torch::kCPU), prompts, answers, groups);
  UtilityStep out;
  out.surrogate = loss.mean();
  out.loss = out.surrogate.item<double>();
  out.utility = torch::exp(-loss).mean().item<double>();  // the probability of the right answer
  return out;
}

}  // namespace scrim::method
