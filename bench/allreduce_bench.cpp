// scrim_bench_allreduce: the cost of one all-reduce (mean) over Gloo between
// processes on this machine's loopback, for buffers of the sizes a data-parallel
// step would reduce (an anonymizer's and an attacker's gradients).
//
//   build/bench/scrim_bench_allreduce [--ranks 2] [--iters 20] [--port 29531]
//
// Without RANK it starts --ranks copies of itself (RANK 0 .. N-1, rank 0's store on --port)
// and waits; rank 0 prints one line per size: floats, MB, ms per all-reduce
// (median of --iters after 3 warm-up rounds), and the algorithm's bandwidth.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "scrim/distributed/process_group.h"

extern char** environ;

namespace {

// Starts `ranks` copies of this program with torchrun's variables; 0 when all succeed.
int launch(int ranks, int port, char** argv) {
  std::vector<pid_t> pids;
  for (int r = 0; r < ranks; ++r) {
    std::vector<std::string> env;
    const std::vector<std::string> layout{"RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(ranks), "MASTER_ADDR=127.0.0.1",
                                          "MASTER_PORT=" + std::to_string(port)};
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      bool replaced = std::any_of(layout.begin(), layout.end(), [&](const std::string& l) { return kv.rfind(l.substr(0, l.find('=') + 1), 0) == 0; });
      if (!replaced) env.push_back(kv);
    }
    env.insert(env.end(), layout.begin(), layout.end());
    std::vector<char*> envp;
    for (auto& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) return 1;
    pids.push_back(pid);
  }
  int failed = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int ranks = 2, iters = 20, port = 29531;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--ranks") ranks = std::max(2, std::atoi(argv[i + 1]));
    else if (flag == "--iters") iters = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--port") port = std::atoi(argv[i + 1]);
  }
  const char* rank_var = std::getenv("RANK");
  if (rank_var == nullptr || *rank_var == '\0') return launch(ranks, port, argv);
  try {
    auto options = scrim::resolve_distributed_options({}, [](const char* n) { return std::getenv(n); });
    options.timeout = std::chrono::seconds(60);
    at::set_num_threads(1);
    scrim::ProcessGroup group(options);
    if (group.rank() == 0) std::printf("%d processes, Gloo over loopback\n%10s %8s %10s %10s\n", group.world_size(), "floats", "MB", "ms", "GB/s");
    for (int64_t n : {int64_t{100'000}, int64_t{1'000'000}, int64_t{8'000'000}}) {
      std::vector<at::Tensor> buf{at::ones({n}, at::kFloat)};
      std::vector<double> ms;
      for (int i = 0; i < iters + 3; ++i) {
        group.barrier();
        auto t0 = std::chrono::steady_clock::now();
        group.all_reduce(buf, scrim::ReduceOp::kMean);
        auto t1 = std::chrono::steady_clock::now();
        if (i >= 3) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
      double mb = n * 4.0 / 1e6;
      if (group.rank() == 0) std::printf("%10lld %8.1f %10.2f %10.2f\n", static_cast<long long>(n), mb, ms[ms.size() / 2], mb / ms[ms.size() / 2]);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scrim_bench_allreduce: %s\n", e.what());
    return 1;
  }
}
