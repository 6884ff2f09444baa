// Throughput of the anonymizer f_A (the default U-Net: width 8, depth 3) at
// 112x112: forward passes at batch 16 (inference, as in `scrim protect` and
// the proxy) and one training step's forward + backward. Target: at least 100
// images/s at batch 16 on the 2-core CPU.
// BM_HeadBlend: the control-space anonymizer `scrim train --recipe head` trains (random weights: the cost does not
// depend on them), one picture as the proxy protects it, by stage: the network's scores at 112 (0), the placed
// region's weights (1), the whole forward pass at 112 (2), and a 1024x768 photo through forward_any_size (3).
//
//   scrim_bench_anonymizer [--device cuda] [Google Benchmark flags]
//
// On a GPU it also runs the batch sizes a GPU is used with (64 and 256 for
// inference, 64 for a training step). bench/device/ builds it against a CUDA
// LibTorch without scrim's other dependencies.
#include <cstdio>
#include <cstring>
#include <string>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "nets/anonymizer_net.h"
#include "nets/blend_anonymizer.h"
#include "scrim/core/runtime.h"

namespace {

torch::Device g_device = torch::kCPU;

void sync() {
  if (g_device.is_cuda()) torch::cuda::synchronize();
}

void BM_AnonymizerForward(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  scrim::nets::AnonymizerNetOptions o;
  o.width = state.range(1);
  scrim::nets::AnonymizerNet net(o);
  net->to(g_device);
  net->eval();
  auto x = torch::rand({state.range(0), 3, 112, 112}).to(g_device);
  for (auto _ : state) {
    benchmark::DoNotOptimize(net->forward(x));
    sync();
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AnonymizerForward)->Args({16, 8})->Args({1, 8})->Args({16, 16})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AnonymizerTrainStep(benchmark::State& state) {
  scrim::nets::AnonymizerNet net(scrim::nets::AnonymizerNetOptions{});
  net->to(g_device);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::rand({state.range(0), 3, 112, 112}).to(g_device);
  for (auto _ : state) {
    opt.zero_grad();
    torch::nn::functional::l1_loss(net->forward(x), x).backward();
    opt.step();
    sync();
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AnonymizerTrainStep)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_HeadBlend(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  scrim::nets::BlendAnonymizerOptions o;  // the head recipe's network (scrim/method/train_recipe.h)
  o.grid = 28, o.stride = 4, o.width = 16, o.context = 4, o.budget = 0.014;
  o.upsample = scrim::nets::Upsample::kGuided, o.shape = scrim::nets::HideShape::kHead, o.edge = scrim::nets::Edge{0.35};
  o.bank = "fill:value=fit";
  scrim::nets::BlendAnonymizer net(o);
  net->to(g_device);
  net->eval();
  const auto stage = state.range(0);
  auto x = stage == 3 ? torch::rand({1, 3, 768, 1024}).to(g_device) : torch::rand({1, 3, 112, 112}).to(g_device);
  for (auto _ : state) {
    if (stage == 0) benchmark::DoNotOptimize(net->logits(x));
    if (stage == 1) benchmark::DoNotOptimize(net->weights(x));
    if (stage == 2) benchmark::DoNotOptimize(net->forward(x));
    if (stage == 3) benchmark::DoNotOptimize(net->forward_any_size(x));
    sync();
  }
}
BENCHMARK(BM_HeadBlend)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  scrim::reexec_with_thread_environment(argv);
  scrim::configure_threads();
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--device") == 0 && std::string(argv[i + 1]) == "cuda") g_device = torch::kCUDA;
  if (g_device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      std::fprintf(stderr, "scrim_bench_anonymizer: --device cuda, but this LibTorch sees no CUDA device\n");
      return 1;
    }
    benchmark::RegisterBenchmark("BM_AnonymizerForward", BM_AnonymizerForward)->Args({64, 8})->Args({256, 8})->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_AnonymizerTrainStep", BM_AnonymizerTrainStep)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
