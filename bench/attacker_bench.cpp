// Training one privacy attacker (attribute and identity classifiers) on 5,000
// synthetic 112x112 images with the evaluation's settings (8 epochs, every one
// run: the final networks are tested), for each architecture, plus the test pass
// on 1,000 images. Issue 4 target: under 5 minutes on this machine.
#include <unistd.h>

#include <filesystem>

#include <benchmark/benchmark.h>

#include "scrim/core/runtime.h"
#include "scrim/data/manifest.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/privacy/attacker.h"

namespace fs = std::filesystem;

namespace {

struct Data {
  scrim::AttackerData train, test;
  std::vector<std::string> attributes;
  Data() {
    scrim::configure_threads();
    fs::path dir = fs::temp_directory_path() / ("scrim_attacker_bench_" + std::to_string(getpid()));
    scrim::SynthOptions o;
    o.out = dir;
    o.train = 5000;
    o.test = 1000;
    scrim::generate_synth(o);
    scrim::Manifest m = scrim::read_manifest(dir / "actions.jsonl");
    attributes = m.attributes;
    std::map<std::string, int> ids;
    for (const auto& s : m.samples) {
      auto& d = s.split == "train" ? train : test;
      d.images.push_back(scrim::read_image(m.resolve(s.media.images[0])));
      std::vector<int> row;
      for (const auto& a : attributes) row.push_back(s.privacy.attributes.at(a));
      d.attributes.push_back(row);
      d.identity.push_back(ids.emplace(*s.privacy.identity, static_cast<int>(ids.size())).first->second);
    }
    fs::remove_all(dir);
  }
};

Data& data() {
  static Data d;
  return d;
}

void BM_TrainAttacker(benchmark::State& state, const std::string& arch) {
  scrim::AttackerOptions o;
  o.arch = arch;
  o.epochs = static_cast<int>(state.range(0));
  scrim::AttackerResult r;
  for (auto _ : state) r = scrim::train_and_test_attacker(data().train, data().test, data().attributes, 20, o);
  state.counters["cmap"] = r.attributes.cmap;
  state.counters["identity_top1"] = r.identity_top1;
  state.counters["epochs"] = r.epochs_run;
}
BENCHMARK_CAPTURE(BM_TrainAttacker, small, std::string("small"))->Arg(8)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainAttacker, resnet18, std::string("resnet18"))->Arg(8)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
