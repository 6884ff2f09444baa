// Synthetic-benchmark throughput: rendering alone, and the full `data synth`
// pipeline (render + PNG encode + manifests) on all cores.
// Target (issue 2): 10,000 images at 112x112 in under 2 minutes (>= 84 images/s).
#include <unistd.h>

#include <filesystem>

#include <benchmark/benchmark.h>

#include "scrim/data/synth.h"

namespace fs = std::filesystem;

static void BM_RenderScene(benchmark::State& state) {
  int size = static_cast<int>(state.range(0));
  int i = 0;
  for (auto _ : state) {
    cv::Mat img = scrim::render_synth_sample(7, "train", i++, size);
    benchmark::DoNotOptimize(img.data);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderScene)->Arg(112)->Arg(224)->Unit(benchmark::kMicrosecond);

static void BM_GenerateDataset(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  fs::path out = fs::temp_directory_path() / ("scrim_bench_synth_" + std::to_string(getpid()));
  for (auto _ : state) {
    scrim::SynthOptions o;
    o.out = out;
    o.train = n * 4 / 5;
    o.test = n - o.train;
    o.seed = 3;
    o.size = 112;
    o.overwrite = true;
    auto summary = scrim::generate_synth(o);
    benchmark::DoNotOptimize(summary.images);
  }
  fs::remove_all(out);
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GenerateDataset)->Arg(10000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

BENCHMARK_MAIN();
