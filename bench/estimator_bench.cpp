// Estimator quality on the reference MLLM: the cosine between the zeroth-order
// estimate of dL_u/dx' and the true gradient (read through the white-box
// reference model), per image and in the anonymizer's parameter space, against
// probes per sample, for --history none and full. Medians over the samples.
//
//   scrim_bench_estimator MODEL MANIFEST [SAMPLES=100] [Q=4,8,16,32,64]
//
// `full` first visits every sample once (so the per-sample prior and the
// history subspace exist, as they do from the second epoch of training on), then
// is measured on the second visit; `none` is measured on its only visit.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include <torch/torch.h>

#include "method/blackbox_utility.h"
#include "method/training_set.h"
#include "method/utility_gradient.h"
#include "nets/anonymizer_net.h"
#include "oracle/reference_whitebox.h"
#include "optim/zo_estimator.h"
#include "scrim/core/runtime.h"
#include "scrim/oracle/oracle_factory.h"

using namespace scrim;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The gradient of the surrogate sum(x' * g) with respect to the anonymizer's parameters, flattened.
torch::Tensor parameter_gradient(nets::AnonymizerNet& net, const torch::Tensor& x, const torch::Tensor& g) {
  net->zero_grad();
  auto xp = net->forward(x);
  optim::ZerothOrderEstimator::surrogate(xp, g).backward();
  std::vector<torch::Tensor> parts;
  for (const auto& p : net->parameters()) parts.push_back(p.grad().flatten().clone());
  return torch::cat(parts);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL MANIFEST [SAMPLES=100] [Q=4,8,16,32,64]\n", argv[0]);
    return 2;
  }
  reexec_with_thread_environment(argv);
  configure_threads();
  int samples = argc > 3 ? std::atoi(argv[3]) : 100;
  std::vector<int> qs = {4, 8, 16, 32, 64};
  if (argc > 4) {
    qs.clear();
    std::stringstream ss(argv[4]);
    for (std::string t; std::getline(ss, t, ',');) qs.push_back(std::stoi(t));
  }
  auto model = ReferenceMllm::load(argv[1]);
  auto data = method::load_training_set(argv[2], "test", 112, 4, samples);
  const int64_t n = static_cast<int64_t>(data.size());
  const int batch = 8;

  // An anonymizer near the identity (L1 reconstruction), as at the start of training.
  torch::manual_seed(1);
  nets::AnonymizerNet net(nets::AnonymizerNetOptions{});
  {
    torch::optim::Adam init(net->parameters(), torch::optim::AdamOptions(3e-3));
    for (int i = 0; i < 150; ++i) {
      auto x = data.stack({i % n, (i * 7 + 3) % n, (i * 13 + 5) % n, (i * 29 + 1) % n});
      init.zero_grad();
      torch::nn::functional::l1_loss(net->forward(x), x).backward();
      init.step();
    }
    net->eval();
  }

  // True gradients of L_u = -log p(answer) at x' = f_A(x), per sample.
  std::vector<torch::Tensor> x_prime(n), truth(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::vector<int64_t>> groups;
    auto x = data.stack({i}, &groups);
    torch::Tensor xp;
    {
      torch::NoGradGuard no_grad;
      xp = net->forward(x);
    }
    auto leaf = xp.clone().requires_grad_(true);
    reference_answer_loss(*model, leaf, {data.prompts[i]}, {data.answers[i]}, groups).sum().backward();
    x_prime[i] = xp;
    truth[i] = leaf.grad().clone();
  }

  std::printf("estimator cosine with the true gradient, median over %lld samples (grid 8, mu 0.03, log-prob loss)\n",
              static_cast<long long>(n));
  std::printf("%-8s %4s %12s %12s %10s %8s\n", "history", "q", "cos(image)", "cos(params)", "queries", "seconds");
  for (const std::string mode : {"none", "full"}) {
    for (int q : qs) {
      auto start = std::chrono::steady_clock::now();
      OracleStackOptions no_cache;
      auto stack = make_oracle(std::string("reference:") + argv[1], no_cache);
      method::BlackBoxUtility utility(*stack.oracle, data, 8, 20, false);
      optim::CriticalHistory history(optim::HistoryOptions{optim::parse_history_mode(mode)});
      method::BlackBoxOptions bo;
      bo.zo.probes = q;
      bo.zo.mu = 0.03;
      bo.zo.grid = 8;
      bo.scout_probes = std::max(1, q / 4);
      method::BlackBoxGradient estimator(utility, bo, history, data);
      std::vector<double> image_cos, param_cos;
      int visits = mode == "none" ? 1 : 2;
      for (int visit = 0; visit < visits; ++visit) {
        for (int64_t b0 = 0; b0 < n; b0 += batch) {
          std::vector<int64_t> rows;
          for (int64_t i = b0; i < std::min(n, b0 + batch); ++i) rows.push_back(i);
          std::vector<std::vector<int64_t>> groups;
          data.stack(rows, &groups);
          std::vector<torch::Tensor> xs;
          for (auto r : rows) xs.push_back(x_prime[r]);
          auto xp = torch::cat(xs);
          estimator.step(xp, rows, groups, 1000 * visit + b0 + q);
          if (visit + 1 < visits) continue;
          const auto& g = estimator.last_estimate();
          for (size_t k = 0; k < rows.size(); ++k) {
            auto gi = g.index_select(0, torch::tensor(groups[k], torch::kLong));
            image_cos.push_back(optim::cosine(gi, truth[rows[k]]));
            auto x = data.stack({rows[k]});
            param_cos.push_back(optim::cosine(parameter_gradient(net, x, gi), parameter_gradient(net, x, truth[rows[k]])));
          }
        }
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("%-8s %4d %12.3f %12.3f %10lld %8.1f\n", mode.c_str(), q, median(image_cos), median(param_cos),
                  static_cast<long long>(utility.queries()), seconds);
      std::fflush(stdout);
    }
  }
  return 0;
}
