#include "method/utility_gradient.h"

#include <algorithm>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>

#include "optim/prior_mixing.h"
#include "reference/reference_whitebox.h"
#include "scrim/core/rng.h"

namespace scrim::method {

std::pair<torch::Tensor, torch::Tensor> BlackBoxGradient::direction(const ProbeSpace& space, size_t b, torch::Generator& gen,
                                                                    const torch::Tensor& avoid, bool isotropic) const {
  auto shape = space.shape(b);
  torch::Tensor u;
  if (auto basis = space.basis(b); basis.q.defined()) {
    // u = c sum_i s_i y_i Q_i, accumulated through its dual sum_i y_i Q_i / (c s_i) (probe_space.h);
    // c keeps E|u|^2 = r, the size of an isotropic probe in the basis.
    auto y = estimator_.sample({basis.q.size(0)}, gen);
    double c = std::sqrt(static_cast<double>(basis.s.size(0)) / basis.s.pow(2).sum().item<double>());
    auto q = basis.q.flatten(1);
    return {(y * basis.s * c).matmul(q).view(shape), (y / (basis.s * c)).matmul(q).view(shape)};
  } else {
    u = space.constrain(options_.zo.distribution == optim::ProbeDistribution::kRademacher || isotropic
                            ? estimator_.sample(shape, gen)
                            : history_.sample(shape, gen));  // isotropic Gaussian, or Guided-ES mixed with the history subspace
  }
  if (avoid.defined()) u = u - (u * avoid).sum() / (avoid * avoid).sum() * avoid;
  return {u, u};
}

double BlackBoxGradient::scouted_alpha(const torch::Tensor& prior, const std::vector<torch::Tensor>& dirs,
                                       const std::vector<double>& diffs) const {
  if (dirs.size() < 2) return -1;
  // |g| from the scouts alone (gradient_norm with no mixed pair yet), against the exact derivative along v.
  const double norm = gradient_norm(prior, diffs, static_cast<int>(dirs.size()), 1.0, 0.0);
  if (norm <= 0) return -1;
  return std::abs(diffs[0] / (2 * options_.zo.mu) / prior.norm().item<double>()) / norm;
}

double BlackBoxGradient::gradient_norm(const torch::Tensor& prior, const std::vector<double>& diffs, int scout, double lambda,
                                       double size2) const {
  // g . v_hat exactly from the first pair; |g_perp|^2 from every other: an orthogonal scout's (g . u)^2, and a
  // mixed pair's orthogonal part (delta / |u| - sqrt(lambda) g.v_hat) / sqrt(1 - lambda) = g_perp . xi_hat,
  // whose square times the orthogonal dimension (|u|^2 of a scout) is unbiased for it as well.
  const double two_mu = 2 * options_.zo.mu;
  const double along = diffs[0] / two_mu / prior.norm().item<double>();
  double perp_sq = 0;
  int count = 0;
  for (int k = 1; k < scout; ++k, ++count) perp_sq += std::pow(diffs[static_cast<size_t>(k)] / two_mu, 2);
  if (lambda < 1 - 1e-9)
    for (size_t k = static_cast<size_t>(scout); k < diffs.size(); ++k, ++count)
      perp_sq += size2 * std::pow((diffs[k] / two_mu / std::sqrt(size2) - std::sqrt(lambda) * along) / std::sqrt(1 - lambda), 2);
  return std::sqrt(along * along + (count > 0 ? perp_sq / count : 0.0));
}

optim::SplitEstimate BlackBoxGradient::with_prior(const torch::Tensor& prior, const std::vector<torch::Tensor>& dirs,
                                                  const std::vector<double>& diffs) const {
  // The black box's directional derivative along the prior fixes its sign and scale exactly. When it
  // gives none (hard labels that did not flip), the surrogate's own direction is kept, at the size of a
  // derivative that flips one answer across the probe (a hard label's unit).
  const double prior_norm = prior.norm().item<double>();
  auto along = diffs[0] != 0 ? prior * (diffs[0] / (2 * options_.zo.mu) / (prior_norm * prior_norm))
                             : prior / (2 * options_.zo.mu * prior_norm);
  optim::SplitEstimate s;
  if (dirs.size() < 2) {
    s.g = s.a = along;
    s.b = torch::zeros_like(along);
    return s;
  }
  auto rest = torch::stack(std::vector<torch::Tensor>(dirs.begin() + 1, dirs.end()));
  auto split = estimator_.combine_split(rest, torch::tensor(std::vector<double>(diffs.begin() + 1, diffs.end()), torch::kFloat64));
  // The orthogonal part's noise is ~ D / m times its signal: shrinking it by m / (m + D) maximises the cosine.
  double m = static_cast<double>(rest.size(0)), d = rest.pow(2).sum().item<double>() / m;
  double shrink = m / (m + d);
  s.a = along + shrink * split.a;
  s.b = split.weight_b > 0 ? along + shrink * split.b : torch::zeros_like(along);
  s.weight_a = split.weight_a;
  s.weight_b = split.weight_b;
  s.g = along + shrink * split.g;
  // The prior's cosine with the black box's gradient, measured: the exact derivative along it against
  // the orthogonal part's norm, whose unbiased square is the halves' product (P-RGF's alpha, online).
  double along_sq = along.pow(2).sum().item<double>();
  double rest_sq = split.weight_b > 0 ? std::max(0.0, (split.a * split.b).sum().item<double>()) : 0.0;
  if (diffs[0] != 0) s.alpha = std::sqrt(along_sq / (along_sq + rest_sq));
  return s;
}

UtilityStep BlackBoxGradient::step(const ProbeSpace& space, const std::vector<int64_t>& rows, uint64_t seed, const BatchShare& share) {
  const double mu = options_.zo.mu;
  const size_t n = rows.size();
  const int q = std::max(1, options_.zo.probes);
  const int scout = std::clamp(options_.scout_probes, 1, q);
  const double total = static_cast<double>(share.total());  // the batch's means are over the global batch
  // Each sample's directions come from its own stream, seeded by its position in the global
  // batch: how the batch is cut between ranks changes none of them.
  std::vector<torch::Generator> gens;
  for (size_t b = 0; b < n; ++b) gens.push_back(at::detail::createCPUGenerator(derive_seed(seed, 0, static_cast<uint64_t>(share.begin()) + b)));
  StepFailures failures;  // this rank's MLLM failure, agreed with the other ranks at the collectives below

  std::vector<std::vector<torch::Tensor>> dirs(n);  // per sample, directions in its coordinates
  std::vector<std::vector<torch::Tensor>> duals(n); // per sample, what the estimate accumulates for each (the direction itself but in a weighted basis)
  std::vector<std::vector<double>> diffs(n);        // per sample, (L+ - L-) per direction
  auto id_of = [&](int64_t row) { return data_.samples[static_cast<size_t>(row)]->id; };

  // Runs probe pairs along the given directions for several samples in one batch of queries.
  auto probe = [&](const std::vector<std::pair<size_t, std::vector<torch::Tensor>>>& todo, bool with_center) {
    std::vector<std::pair<int64_t, torch::Tensor>> work;
    for (const auto& [b, ds] : todo) {
      std::vector<torch::Tensor> offsets;
      if (with_center) offsets.push_back(torch::zeros(space.shape(b)));
      for (const auto& d : ds) {
        offsets.push_back(mu * d);
        offsets.push_back(-mu * d);
      }
      work.push_back({rows[b], space.images(b, torch::stack(offsets))});
    }
    return utility_.evaluate_many(work);
  };

  const bool prgf = options_.prior_mix == PriorMix::kPrgf;
  // 1. Scouting: the center and `scout` pairs per sample; the first pair follows the sample's prior when it has one.
  std::vector<std::pair<size_t, std::vector<torch::Tensor>>> todo;
  std::vector<torch::Tensor> transfer(n);  // the transfer prior per sample, rms 1 (undefined: none)
  for (size_t b = 0; b < n; ++b) {
    std::vector<torch::Tensor> ds, dual;
    if (prior_ && !space.basis(b).q.defined()) {
      auto v = space.constrain(prior_->prior(space, b, rows[b])).reshape(space.shape(b));
      auto rms = v.pow(2).mean().sqrt().item<double>();
      if (rms > 0) transfer[b] = v / rms;
      if (rms > 0) ds.push_back(transfer[b]), dual.push_back(transfer[b]);
    } else if (auto prior = history_.prior(id_of(rows[b]))) {
      auto p = space.constrain(prior->view(space.shape(b)));
      auto rms = p.pow(2).mean().sqrt().item<double>();
      if (rms > 0) ds.push_back(p / rms), dual.push_back(p / rms);
    }
    while (static_cast<int>(ds.size()) < scout) {
      auto [u, d] = direction(space, b, gens[b], transfer[b], prgf && transfer[b].defined());
      ds.push_back(u);
      dual.push_back(d);
    }
    duals[b] = dual;
    todo.push_back({b, ds});
  }
  std::vector<UtilityLosses> scouted;
  failures.run(share, [&] { scouted = probe(todo, true); });
  UtilityStep out;
  out.utility = 0;
  std::vector<double> criticality(n, 0.0);
  for (size_t b = 0; b < n && !failures.failed(); ++b) {
    const auto& l = scouted[b].loss;
    out.loss += l[0].item<double>() / total;
    out.utility += scouted[b].utility[0].item<double>() / total;
    for (size_t k = 0; k < todo[b].second.size(); ++k) {
      double d = l[static_cast<int64_t>(1 + 2 * k)].item<double>() - l[static_cast<int64_t>(2 + 2 * k)].item<double>();
      dirs[b].push_back(todo[b].second[k]);
      diffs[b].push_back(d);
      criticality[b] += std::abs(d) / static_cast<double>(todo[b].second.size());
    }
  }

  // 2. The rest of the global batch's probes, allocated by the history (critical samples first, under
  // `full`) over every rank's scouts; this rank probes its own samples' allocation.
  std::vector<double> scouts = criticality;
  if (share.distributed()) {
    std::vector<torch::Tensor> t{share.padded(torch::tensor(criticality, torch::kFloat64)), failures.codes(share)};
    share.sum(t);
    failures.check(share, t[1]);
    scouts.assign(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
  }
  auto extra = share.local(history_.allocate(scouts, static_cast<int>(share.total()) * (q - scout), 0));
  // P-RGF's alpha per sample from its scouts (-1: not mixing — no prior, the subspace variant, or no signal).
  // probe_size2: |u|^2 of its orthogonal scouts, the probed space's dimension D (the simplex tangent's for
  // the controls, not the controls' count).
  std::vector<double> mixing(n, -1.0), probe_size2(n, 0.0), lambdas(n, 0.0);
  if (prgf && !failures.failed())
    for (size_t b = 0; b < n; ++b) {
      if (!transfer[b].defined() || dirs[b].size() < 2) continue;
      mixing[b] = scouted_alpha(transfer[b], dirs[b], diffs[b]);
      for (size_t k = 1; k < dirs[b].size(); ++k) probe_size2[b] += dirs[b][k].pow(2).sum().item<double>() / static_cast<double>(dirs[b].size() - 1);
    }
  todo.clear();
  for (size_t b = 0; b < n; ++b) {
    if (extra[b] <= 0) continue;
    std::vector<torch::Tensor> ds;
    // P-RGF: each further pair mixes the prior with an orthogonal direction by lambda*, at the size of a
    // random probe (|u|^2 = D, the probed space's dimension: the simplex tangent's for the controls), so the
    // plain average below weighs every pair alike.
    double& lambda = lambdas[b];
    if (mixing[b] >= 0) lambda = optim::prgf_lambda(mixing[b], std::max<int64_t>(2, std::llround(probe_size2[b])), extra[b]);
    for (int k = 0; k < extra[b]; ++k) {
      auto [u, d] = direction(space, b, gens[b], transfer[b], mixing[b] >= 0);
      if (mixing[b] >= 0) {
        u = std::sqrt(probe_size2[b]) * (std::sqrt(lambda) * transfer[b] / transfer[b].norm() + std::sqrt(1 - lambda) * u / u.norm());
        d = u;
      }
      ds.push_back(u);
      duals[b].push_back(d);
    }
    todo.push_back({b, ds});
  }
  if (!todo.empty()) {
    std::vector<UtilityLosses> more;
    failures.run(share, [&] { more = probe(todo, false); });
    for (size_t j = 0; j < todo.size() && !failures.failed(); ++j) {
      size_t b = todo[j].first;
      const auto& l = more[j].loss;
      for (size_t k = 0; k < todo[j].second.size(); ++k) {
        dirs[b].push_back(todo[j].second[k]);
        diffs[b].push_back(l[static_cast<int64_t>(2 * k)].item<double>() - l[static_cast<int64_t>(2 * k + 1)].item<double>());
      }
    }
  }

  // 3. Per-sample estimates, split into halves; the history records them (below, every rank all of them).
  last_.clear();
  std::vector<torch::Tensor> g, ga, gb, recorded(n);
  std::vector<double> recorded_crit(n, 0.0);
  double alpha_sum = 0;
  int alpha_count = 0;
  for (size_t b = 0; b < n && !failures.failed(); ++b) {
    const bool mixed = mixing[b] >= 0 && duals[b].size() > static_cast<size_t>(scout);
    optim::SplitEstimate split;
    if (mixed) {
      // P-RGF as published: the scouts only measured alpha; the estimate is the mixed probes' plain average
      // (lambda* is optimal for that estimator, not for one that also holds the exact pair along the prior).
      // Its scale depends on lambda (E = lambda D (g.v)v + ...), so it is given an estimate of |g|: samples
      // weigh alike in the batch whatever their lambda.
      split = estimator_.combine_split(torch::stack(std::vector<torch::Tensor>(duals[b].begin() + scout, duals[b].end())),
                                       torch::tensor(std::vector<double>(diffs[b].begin() + scout, diffs[b].end()), torch::kFloat64));
      const double norm = split.g.norm().item<double>();
      if (norm > 0) {
        const double scale = gradient_norm(transfer[b], diffs[b], scout, lambdas[b], probe_size2[b]) / norm;
        split.g = split.g * scale, split.a = split.a * scale, split.b = split.b * scale;
      }
      split.alpha = mixing[b];
    } else if (transfer[b].defined()) {  // the subspace variant, or a P-RGF sample left without mixed pairs
      split = with_prior(transfer[b], dirs[b], diffs[b]);
      if (mixing[b] >= 0) split.alpha = mixing[b];
    } else {
      split = estimator_.combine_split(torch::stack(duals[b]), torch::tensor(diffs[b], torch::kFloat64));
    }
    double crit = 0;
    for (double d : diffs[b]) {
      crit += std::abs(d) / static_cast<double>(diffs[b].size());
      out.flat_pairs += std::abs(d) <= kFlatDifference ? 1 : 0;
    }
    out.pairs += static_cast<int64_t>(diffs[b].size());
    if (crit > 0) ++out.critical_samples;
    recorded[b] = split.g.detach().to(torch::kFloat32).flatten();
    recorded_crit[b] = crit;
    if (prior_) prior_->observe(space, b, rows[b], dirs[b], diffs[b], mu);
    if (split.alpha >= 0) alpha_sum += split.alpha, ++alpha_count;
    g.push_back(split.g);
    ga.push_back(split.weight_a * split.a);
    gb.push_back(split.weight_b * split.b);
    out.weight_a += split.weight_a / total;
    out.weight_b += split.weight_b / total;
    // With a prior the halves share its part (the exact pair, or v's component in every mixed pair): a . b is
    // no independent product, and the figure would read high (docs/estimator.md); prior_alpha is the one to watch.
    if (double cos2 = 0; !transfer[b].defined() && optim::split_half_cos2(split, cos2)) out.split_half_cos2_sum += cos2, ++out.split_half_samples;
    last_.push_back(std::move(split));
  }
  record_history(share, rows, recorded, recorded_crit, failures);
  if (alpha_count > 0) out.prior_alpha = alpha_sum / alpha_count;
  out.prior_samples = alpha_count;
  out.queries = static_cast<int64_t>(n) + 2 * out.pairs;
  // space.surrogate is a mean over this share's samples; scaled to its part of the global batch's mean.
  const double part = static_cast<double>(n) / total;
  out.half_a = space.surrogate(ga);
  out.half_b = space.surrogate(gb);
  if (share.distributed()) out.half_a = out.half_a * part, out.half_b = out.half_b * part;
  out.surrogate = out.half_a + out.half_b;
  return out;
}

void BlackBoxGradient::record_history(const BatchShare& share, const std::vector<int64_t>& rows, const std::vector<torch::Tensor>& estimates,
                                      const std::vector<double>& criticality, const StepFailures& failures) {
  if (!share.distributed()) {
    for (size_t b = 0; b < rows.size(); ++b) history_.record(data_.samples[static_cast<size_t>(rows[b])]->id, estimates[b], criticality[b]);
    return;
  }
  // Every rank records every sample of the global batch, in batch order, as one process would:
  // first each position's row and estimate size (and the ranks' outcomes), then the estimates.
  const int64_t n = share.size(), total = share.total();
  auto local_ints = torch::zeros({n, 2}, torch::kLong);
  for (int64_t b = 0; b < n && !failures.failed(); ++b) {
    local_ints[b][0] = rows[static_cast<size_t>(b)];
    local_ints[b][1] = estimates[static_cast<size_t>(b)].numel();
  }
  std::vector<torch::Tensor> ints{share.padded(local_ints), failures.codes(share)};
  share.sum(ints);
  failures.check(share, ints[1]);
  auto sizes = ints[0].select(1, 1);
  auto offsets = torch::cat({torch::zeros({1}, torch::kLong), sizes.cumsum(0)});
  auto flat = torch::zeros({offsets[total].item<int64_t>()}, torch::kFloat32);
  for (int64_t b = 0; b < n; ++b) flat.slice(0, offsets[share.begin() + b].item<int64_t>(), offsets[share.begin() + b + 1].item<int64_t>()).copy_(estimates[static_cast<size_t>(b)]);
  std::vector<torch::Tensor> data{flat, share.padded(torch::tensor(criticality, torch::kFloat64))};
  share.sum(data);
  for (int64_t p = 0; p < total; ++p)
    history_.record(data_.samples[static_cast<size_t>(ints[0][p][0].item<int64_t>())]->id,
                    data[0].slice(0, offsets[p].item<int64_t>(), offsets[p + 1].item<int64_t>()), data[1][p].item<double>());
}

UtilityStep WhiteBoxGradient::step(const ProbeSpace& space, const std::vector<int64_t>& rows, uint64_t, const BatchShare& share) {
  std::vector<std::string> prompts, answers;
  for (auto r : rows) {
    prompts.push_back(data_.prompts[static_cast<size_t>(r)]);
    answers.push_back(data_.answers[static_cast<size_t>(r)]);
  }
  // The black box's loss (minus the log-odds margin), read exactly.
  auto losses = reference_answer_losses(model_, space.x_prime().to(torch::kCPU), prompts, answers, space.groups());
  UtilityStep out;
  out.surrogate = (margin_cap_ > 0 ? losses.margin.clamp_min(-margin_cap_) : losses.margin).mean();
  out.utility = torch::exp(-losses.cross_entropy).mean().item<double>();  // the probability of the right answer
  if (share.distributed()) {  // this share's part of the global batch's means
    const double part = static_cast<double>(rows.size()) / static_cast<double>(share.total());
    out.surrogate = out.surrogate * part;
    out.utility *= part;
  }
  out.loss = out.surrogate.item<double>();
  return out;
}

}  // namespace scrim::method
