// The c10d store and process group behind scrim::ProcessGroup. Arrival is
// checked through the store before Gloo connects, so a peer that never comes
// is named in a one-line error instead of a library timeout deep in Gloo.
// USE_C10D_GLOO and USE_C10D_NCCL come from LibTorch's CMake config: they say
// which backends this LibTorch was built with (Debian's: Gloo, no NCCL). NCCL is
// used only where its header is there too (a pip wheel's LibTorch defines
// USE_C10D_NCCL but ships nccl.h in a separate package; some ship no Gloo
// headers either: then several processes are refused with a one-line error).
#include "scrim/distributed/process_group.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/util/Logging.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#if __has_include(<gloo/algorithm.h>)
#define SCRIM_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define SCRIM_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "scrim/core/error.h"

namespace scrim {
namespace {

// What Gloo and NCCL derive from: c10d::ProcessGroup up to LibTorch 1.x, c10d::Backend since 2.0.
#if TORCH_VERSION_MAJOR >= 2
using GroupBackend = c10d::Backend;
#else
using GroupBackend = c10d::ProcessGroup;
#endif

std::string seconds_text(std::chrono::milliseconds t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(t.count()) / 1000.0);
  return buf;
}

std::string arrival_key(int rank) { return "scrim/arrived/" + std::to_string(rank); }
std::string heartbeat_key(int rank) { return "scrim/alive/" + std::to_string(rank); }
std::string text_key(const std::string& name, int rank) { return "scrim/text/" + name + "/" + std::to_string(rank); }
constexpr auto kHeartbeat = std::chrono::seconds(1);

// The first line of a c10 error: its message without the C++ backtrace.
std::string brief(const std::exception& e) {
  if (auto* c10e = dynamic_cast<const c10::Error*>(&e)) return one_line(c10e->msg());
  std::string s = e.what();
  return one_line(s.substr(0, s.find('\n')));
}

#ifdef SCRIM_GLOO
// Gloo's transport device: the interface GLOO_SOCKET_IFNAME names (as in
// torch.distributed), loopback when the whole run is on this machine's
// loopback, else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0')
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  if (master_addr == "::1") return c10d::ProcessGroupGloo::createDeviceForHostname("::1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

// c10's log level: a gflags flag in the global namespace where LibTorch uses gflags (Debian's), else c10's own.
int& c10_log_level() {
  using namespace c10;
  return FLAGS_caffe2_log_level;
}

// c10d logs each failed connection attempt on stderr; while the store starts,
// the one-line error thrown afterwards says it all. c10's own level gates c10d's
// messages; a LibTorch built with glog (C10_USE_GLOG, Debian's) logs through
// glog's level too.
class QuietStartup {
 public:
  QuietStartup() : saved_c10_(c10_log_level()) {
    c10_log_level() = 3;  // FATAL
#ifdef C10_USE_GLOG
    saved_glog_ = FLAGS_minloglevel;
    FLAGS_minloglevel = google::GLOG_FATAL;
#endif
  }
  ~QuietStartup() {
    c10_log_level() = saved_c10_;
#ifdef C10_USE_GLOG
    FLAGS_minloglevel = saved_glog_;
#endif
  }
  QuietStartup(const QuietStartup&) = delete;
  QuietStartup& operator=(const QuietStartup&) = delete;

 private:
  int saved_c10_;
#ifdef C10_USE_GLOG
  int saved_glog_ = 0;
#endif
};

}  // namespace

struct ProcessGroup::Impl {
  DistributedOptions options;
  std::string backend = "none";
  std::string where;                           // "HOST:PORT", for messages
  c10::intrusive_ptr<c10d::TCPStore> store;    // null with one process
  c10::intrusive_ptr<GroupBackend> group;
  bool broken = false;                         // a collective failed: the peers may be gone
  std::mutex local_mutex;                      // the counters and texts of a one-process run
  std::map<std::string, int64_t> local_counters;
  std::map<std::string, std::string> local_texts;
  std::thread heart;                           // beats in the store while the run lasts
  std::mutex heart_mutex;
  std::condition_variable heart_stop;
  bool stopping = false;

  void start_heart() {
    heart = std::thread([this] {
      std::unique_lock lock(heart_mutex);
      do {
        try {
          store->add(heartbeat_key(options.rank), 1);
        } catch (const std::exception&) {
          return;  // the store is gone (rank 0 left): nobody is listening any more
        }
      } while (!heart_stop.wait_for(lock, kHeartbeat, [this] { return stopping; }));
    });
  }

  void stop_heart() {
    if (!heart.joinable()) return;
    {
      std::lock_guard lock(heart_mutex);
      stopping = true;
    }
    heart_stop.notify_all();
    heart.join();
  }

  void connect_store() {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.waitWorkers = false;  // arrival is checked below, where the missing ranks can be named
    so.timeout = options.timeout;
    try {
      store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    } catch (const std::exception& e) {
      if (options.rank == 0) throw Error("distributed: rank 0 could not serve the store at " + where + ": " + brief(e));
      throw Error("distributed: rank " + std::to_string(options.rank) + " could not reach rank 0's store at " + where + " within " +
                  seconds_text(options.timeout) + " (is rank 0 running, and MASTER_ADDR/MASTER_PORT right?): " + brief(e));
    }
  }

  // Every rank announces itself, then waits for all the others.
  void wait_for_peers() {
    store->set(arrival_key(options.rank), std::vector<uint8_t>{1});
    std::vector<std::string> keys;
    for (int r = 0; r < options.world_size; ++r) keys.push_back(arrival_key(r));
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    auto pause = std::chrono::milliseconds(5);
    while (!store->check(keys)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        std::string missing;
        int count = 0;
        for (int r = 0; r < options.world_size; ++r)
          if (!store->check({arrival_key(r)})) {
            if (count++ < 16) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
          }
        if (count > 16) missing += ", … (" + std::to_string(count) + " in all)";
        throw Error("distributed: rank" + std::string(count > 1 ? "s " : " ") + missing + " of " + std::to_string(options.world_size) +
                    " did not arrive at " + where + " within " + seconds_text(options.timeout) + " (seen from rank " +
                    std::to_string(options.rank) + ")");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(200));
    }
  }

  void start_group() {
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("scrim/group", store);
#ifdef SCRIM_NCCL
    if (options.cuda) {  // not exercised by the tests: no CUDA LibTorch on the build machines
      auto no = c10d::ProcessGroupNCCL::Options::create();
      no->timeout = options.timeout;
      try {
        group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, options.rank, options.world_size, no);
      } catch (const std::exception& e) {
        throw Error("distributed: rank " + std::to_string(options.rank) + " could not start NCCL (store at " + where + "): " + brief(e));
      }
      backend = "nccl";
      return;
    }
#endif
#ifdef SCRIM_GLOO
    auto go = c10d::ProcessGroupGloo::Options::create(options.timeout);
    go->threads = 2;
    try {
      go->devices.push_back(gloo_device(options.master_addr));
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, options.rank, options.world_size, go);
    } catch (const std::exception& e) {
      throw Error("distributed: rank " + std::to_string(options.rank) + " could not connect Gloo to its peers (store at " + where +
                  "): " + brief(e));
    }
    backend = "gloo";
#else
    throw UsageError("distributed: built without Gloo");  // refused in the constructor
#endif
  }

  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      broken = true;
      throw Error(std::string("distributed: ") + what + " failed on rank " + std::to_string(options.rank) + ": " + brief(e));
    }
  }

  // Runs `op` on one flat buffer per dtype, then copies the results back, so a
  // list of tensors of any shapes costs one collective per dtype.
  template <typename Op>
  void flat_collective(std::vector<at::Tensor>& tensors, Op op) {
    c10::NoGradGuard no_grad;
    std::map<std::pair<int, int>, std::vector<size_t>> groups;  // (dtype, device type) -> indices
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (!tensors[i].defined() || tensors[i].numel() == 0) continue;
      if (tensors[i].is_sparse()) throw UsageError("distributed: sparse tensors are not supported");
      groups[{static_cast<int>(tensors[i].scalar_type()), static_cast<int>(tensors[i].device().type())}].push_back(i);
    }
    for (auto& [key, idx] : groups) {
      std::vector<at::Tensor> parts;
      for (size_t i : idx) parts.push_back(tensors[i].reshape({-1}));
      std::vector<at::Tensor> flat{at::cat(parts)};
      op(flat);
      int64_t offset = 0;
      for (size_t i : idx) {
        int64_t n = tensors[i].numel();
        tensors[i].copy_(flat[0].slice(0, offset, offset + n).view(tensors[i].sizes()));
        offset += n;
      }
    }
  }
};

ProcessGroup::ProcessGroup(const DistributedOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size)
    throw UsageError("ProcessGroup: rank " + std::to_string(options.rank) + " is outside a world of " + std::to_string(options.world_size));
  if (options.world_size == 1) return;  // as without any launcher: no store, no group
  if (options.master_addr.empty() || options.master_port < 1 || options.master_port > 65535)
    throw UsageError("ProcessGroup: a world of several processes needs a master address and port");
#ifndef SCRIM_GLOO
  if (!options.cuda)
    throw UsageError("distributed: this LibTorch ships without Gloo's headers, so scrim was built without several CPU "
                     "processes; run one process, or build against a LibTorch with them (Debian's libtorch-dev)");
#endif
#ifndef SCRIM_NCCL
  if (options.cuda)  // Gloo would not carry CUDA tensors
    throw UsageError("distributed: --device cuda with " + std::to_string(options.world_size) +
                     " processes needs NCCL, and this LibTorch was built without it; use --device cpu (Gloo)");
#endif
  impl_->where = options.master_addr + ":" + std::to_string(options.master_port);
  QuietStartup quiet;
  impl_->connect_store();
  impl_->wait_for_peers();
  impl_->start_group();
  impl_->start_heart();
}

ProcessGroup::~ProcessGroup() {
  if (!impl_->store) return;
  impl_->stop_heart();
  // Rank 0 serves the store: after a clean run it stays until the others have
  // left (or the timeout passes), so a late rank's last counter_add still finds
  // it. After a failure it leaves at once: the others may never come.
  try {
    impl_->group.reset();
    if (impl_->broken || std::uncaught_exceptions() > 0) return;
    impl_->store->add("scrim/left", 1);
    if (impl_->options.rank != 0) return;
    auto deadline = std::chrono::steady_clock::now() + impl_->options.timeout;
    while (impl_->store->add("scrim/left", 0) < impl_->options.world_size && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } catch (const std::exception&) {
    // leaving is best effort: a peer that died must not turn an exit into a crash
  }
}

int ProcessGroup::rank() const { return impl_->options.rank; }
int ProcessGroup::world_size() const { return impl_->options.world_size; }
const std::string& ProcessGroup::backend() const { return impl_->backend; }

void ProcessGroup::all_reduce(std::vector<at::Tensor>& tensors, ReduceOp op) {
  if (op == ReduceOp::kMean)
    for (const auto& t : tensors)
      if (t.defined() && !t.is_floating_point()) throw UsageError("ProcessGroup::all_reduce(): a mean needs floating-point tensors");
  if (!distributed()) return;
  impl_->flat_collective(tensors, [&](std::vector<at::Tensor>& flat) {
    impl_->wait(impl_->group->allreduce(flat), "all_reduce");
    if (op == ReduceOp::kMean) flat[0].div_(world_size());
  });
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  if (root < 0 || root >= world_size())
    throw UsageError("ProcessGroup::broadcast(): root " + std::to_string(root) + " is outside a world of " + std::to_string(world_size()));
  if (!distributed()) return;
  impl_->flat_collective(tensors, [&](std::vector<at::Tensor>& flat) {
    c10d::BroadcastOptions bo;
    bo.rootRank = root;
    impl_->wait(impl_->group->broadcast(flat, bo), "broadcast");
  });
}

void ProcessGroup::barrier() {
  if (!distributed()) return;
  impl_->wait(impl_->group->barrier(), "barrier");
}

int64_t ProcessGroup::counter_add(const std::string& name, int64_t delta) {
  if (!distributed()) {
    std::lock_guard lock(impl_->local_mutex);
    return impl_->local_counters[name] += delta;
  }
  try {
    return impl_->store->add("scrim/counter/" + name, delta);
  } catch (const std::exception& e) {
    throw Error("distributed: counter " + name + " unreachable from rank " + std::to_string(rank()) + ": " + brief(e));
  }
}

void ProcessGroup::share_text(const std::string& name, const std::string& text) {
  if (!distributed()) {
    std::lock_guard lock(impl_->local_mutex);
    impl_->local_texts[name] = text;
    return;
  }
  try {
    impl_->store->set(text_key(name, rank()), std::vector<uint8_t>(text.begin(), text.end()));
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(rank()) + " could not share " + name + " through the store: " + brief(e));
  }
}

std::vector<std::string> ProcessGroup::gather_text(const std::string& name) {
  if (!distributed()) {
    std::lock_guard lock(impl_->local_mutex);
    auto it = impl_->local_texts.find(name);
    if (it == impl_->local_texts.end()) throw Error("distributed: nothing was shared as " + name);
    return {it->second};
  }
  std::vector<std::string> texts(world_size());
  try {
    for (int r = 0; r < world_size(); ++r) {
      // Waits while rank r's heart beats; its last beat older than the timeout means it is gone.
      int64_t beats = -1;
      auto last_sign = std::chrono::steady_clock::now();
      while (!impl_->store->check({text_key(name, r)})) {
        int64_t now_beats = impl_->store->add(heartbeat_key(r), 0);
        if (now_beats != beats) beats = now_beats, last_sign = std::chrono::steady_clock::now();
        if (std::chrono::steady_clock::now() - last_sign > impl_->options.timeout)
          throw Error("distributed: rank " + std::to_string(r) + " shared no " + name + " and has shown no sign of life for " +
                      seconds_text(impl_->options.timeout) + " (seen from rank " + std::to_string(rank()) + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      auto bytes = impl_->store->get(text_key(name, r));
      texts[r].assign(bytes.begin(), bytes.end());
    }
  } catch (const Error&) {
    impl_->broken = true;
    throw;
  } catch (const std::exception& e) {
    impl_->broken = true;
    throw Error("distributed: gathering " + name + " failed on rank " + std::to_string(rank()) + ": " + brief(e));
  }
  return texts;
}

}  // namespace scrim
