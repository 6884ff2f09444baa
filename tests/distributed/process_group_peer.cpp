// One rank of a process_group_test run: joins the group that RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT describe (SCRIM_PEER_TIMEOUT_MS bounds the wait),
// runs each collective on rank-dependent tensors and prints what it got as one
// JSON line. A failure is one line on stderr and exit 1, as in the CLI.
// SCRIM_PEER_DIE=R makes rank R vanish right after start-up. SCRIM_PEER_GATHER=1
// exchanges texts instead ("from rank R", rank 1 after SCRIM_PEER_LATE_MS) and
// prints what every rank shared.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/distributed/process_group.h"

namespace {

std::vector<double> values(const at::Tensor& t) {
  auto d = t.to(at::kDouble).contiguous().reshape({-1});
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace

int main() {
  try {
    auto options = scrim::resolve_distributed_options({}, [](const char* n) { return std::getenv(n); });
    if (const char* ms = std::getenv("SCRIM_PEER_TIMEOUT_MS")) options.timeout = std::chrono::milliseconds(std::atoll(ms));
    scrim::ProcessGroup group(options);
    const double r = group.rank();
    if (const char* die = std::getenv("SCRIM_PEER_DIE"); die != nullptr && std::atoi(die) == group.rank())
      std::_Exit(3);  // a rank lost after start-up, before any collective
    if (std::getenv("SCRIM_PEER_GATHER") != nullptr) {
      if (const char* late = std::getenv("SCRIM_PEER_LATE_MS"); late != nullptr && group.rank() == 1)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(late)));
      group.share_text("peer-text", "from rank " + std::to_string(group.rank()));
      nlohmann::json out = {{"rank", group.rank()}, {"texts", group.gather_text("peer-text")}};
      std::printf("%s\n", out.dump().c_str());
      return 0;
    }

    // Two dtypes and three shapes in one call.
    std::vector<at::Tensor> sum{at::full({3}, r + 1, at::kFloat), at::full({2, 2}, 10 * (r + 1), at::kDouble),
                                at::full({2}, static_cast<int64_t>(r), at::kLong)};
    group.all_reduce(sum, scrim::ReduceOp::kSum);
    std::vector<at::Tensor> mean{at::arange(4, at::kFloat) * (r + 1)};
    group.all_reduce(mean, scrim::ReduceOp::kMean);
    int root = group.world_size() - 1;
    std::vector<at::Tensor> cast{at::full({5}, 100 + r, at::kFloat)};
    group.broadcast(cast, root);

    group.counter_add("budget", static_cast<int64_t>(r) + 1);
    group.barrier();  // every rank has drawn before any reads the total
    int64_t total = group.counter_add("budget", 0);

    nlohmann::json out = {{"rank", group.rank()},  {"world_size", group.world_size()}, {"backend", group.backend()},
                          {"sum_float", values(sum[0])}, {"sum_double", values(sum[1])}, {"sum_long", values(sum[2])},
                          {"mean", values(mean[0])}, {"broadcast", values(cast[0])}, {"counter", total}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const scrim::UsageError& e) {
    std::fprintf(stderr, "scrim: error: %s\n", scrim::one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scrim: error: %s\n", scrim::one_line(e.what()).c_str());
    return 1;
  }
}
