// Queries per second against the reference server through the HTTP backend at
// concurrency 1, 4 and 16, the in-process reference model, and the cache-hit
// path. The reference model is trained once at start-up at its default width
// (set SCRIM_BENCH_MODEL to a model file to use an existing one).
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <benchmark/benchmark.h>

#include "scrim/core/runtime.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/cached_oracle.h"
#include "scrim/oracle/http_oracle.h"
#include "scrim/reference/reference_mllm.h"
#include "scrim/serve/oracle_server.h"

namespace fs = std::filesystem;

namespace {

struct BenchWorld {
  fs::path dir = fs::temp_directory_path() / ("scrim_oracle_bench_" + std::to_string(getpid()));
  std::shared_ptr<scrim::ReferenceMllm> model;
  std::unique_ptr<scrim::OracleServer> server;
  std::thread thread;
  std::vector<scrim::OracleRequest> requests;

  BenchWorld() {
    scrim::configure_threads();
    scrim::SynthOptions s;
    s.out = dir / "synth";
    s.train = 64;
    s.test = 64;
    scrim::generate_synth(s);
    fs::path model_file;
    if (const char* env = std::getenv("SCRIM_BENCH_MODEL")) {
      model_file = env;
    } else {
      scrim::ReferenceTrainOptions o;
      o.manifests = {s.out / "vqa.jsonl"};
      o.out = dir / "bench.pt";
      o.epochs = 1;
      model_file = o.out;
      scrim::train_reference_mllm(o);
    }
    model = scrim::ReferenceMllm::load(model_file);
    scrim::OracleServerOptions so;
    so.port = 0;
    server = std::make_unique<scrim::OracleServer>(model, so);
    server->bind();
    thread = std::thread([this] { server->serve(); });
    for (int i = 0; i < 64; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "images/test/test-%06d.png", i);
      scrim::OracleRequest r{{scrim::read_image(s.out / name)}, "How many people are there? Answer with a single word or number.", {}};
      requests.push_back(r);
    }
  }
  ~BenchWorld() {
    server->stop();
    thread.join();
    fs::remove_all(dir);
  }
  std::shared_ptr<scrim::HttpOracle> client(int concurrency, bool keep_alive = true) {
    scrim::HttpOracleOptions h;
    h.base_url = "http://127.0.0.1:" + std::to_string(server->port()) + "/v1";
    h.model = "reference";
    h.max_concurrency = concurrency;
    h.keep_alive = keep_alive;
    return std::make_shared<scrim::HttpOracle>(h);
  }
};

BenchWorld& world() {
  static BenchWorld w;
  return w;
}

// Second argument: 1 keeps connections alive (the default), 0 opens one per query.
void BM_HttpReference(benchmark::State& state) {
  int concurrency = static_cast<int>(state.range(0));
  auto client = world().client(concurrency, state.range(1) != 0);
  for (auto _ : state) {
    try {
      auto replies = scrim::query_batch(*client, world().requests, concurrency);
      benchmark::DoNotOptimize(replies.data());
    } catch (const std::exception& e) {  // a connection per query can fail at high concurrency: report it
      state.SkipWithError(e.what());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(world().requests.size()));
}
BENCHMARK(BM_HttpReference)->ArgsProduct({{1, 4, 16}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void BM_InProcessReference(benchmark::State& state) {
  for (auto _ : state) {
    auto replies = scrim::query_batch(*world().model, world().requests, 1);
    benchmark::DoNotOptimize(replies.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(world().requests.size()));
}
BENCHMARK(BM_InProcessReference)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void BM_CacheHit(benchmark::State& state) {
  scrim::CachedOracle cache(world().client(4), world().dir / "cache.sqlite");
  scrim::query_batch(cache, world().requests, 4);  // warm: every request is now a hit
  for (auto _ : state) {
    auto replies = scrim::query_batch(cache, world().requests, 1);
    benchmark::DoNotOptimize(replies.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(world().requests.size()));
  state.counters["hit_rate"] = static_cast<double>(cache.hits()) / static_cast<double>(cache.hits() + cache.misses());
}
BENCHMARK(BM_CacheHit)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
