#include "scrim/distributed/distributed_options.h"

#include <charconv>

#include "scrim/core/error.h"

namespace scrim {
namespace {

// The whole of `text` as an integer in [lo, hi], or UsageError naming `what`.
int parse_int(const std::string& text, const std::string& what, int lo, int hi) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi)
    throw UsageError("distributed: " + what + "=" + text + " is not an integer in " + std::to_string(lo) + " .. " + std::to_string(hi));
  return value;
}

constexpr int kMaxWorld = 1 << 20;

}  // namespace

std::pair<std::string, int> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("distributed: --master " + text + " is not HOST:PORT");
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {  // [::1]:29500
    if (host.back() != ']' || host.size() < 3) throw UsageError("distributed: --master " + text + " is not HOST:PORT");
    host = host.substr(1, host.size() - 2);
  }
  return {host, parse_int(text.substr(colon + 1), "--master port", 1, 65535)};
}

DistributedOptions resolve_distributed_options(const DistributedFlags& flags, const EnvLookup& env) {
  DistributedOptions o;
  auto var = [&](const char* name) -> std::optional<std::string> {
    const char* v = env(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  if (flags.world_size) o.world_size = *flags.world_size;
  else if (auto v = var("WORLD_SIZE")) o.world_size = parse_int(*v, "WORLD_SIZE", 1, kMaxWorld);
  if (o.world_size < 1 || o.world_size > kMaxWorld)
    throw UsageError("distributed: --world-size " + std::to_string(o.world_size) + " is not in 1 .. " + std::to_string(kMaxWorld));
  if (o.world_size == 1 && !flags.rank && !var("RANK")) return o;  // one process, as without any launcher

  if (flags.rank) o.rank = *flags.rank;
  else if (auto v = var("RANK")) o.rank = parse_int(*v, "RANK", 0, kMaxWorld - 1);
  else throw UsageError("distributed: a world of " + std::to_string(o.world_size) + " processes needs RANK or --rank");
  if (o.rank < 0 || o.rank >= o.world_size)
    throw UsageError("distributed: rank " + std::to_string(o.rank) + " is outside a world of " + std::to_string(o.world_size));
  if (auto v = var("LOCAL_RANK")) o.local_rank = parse_int(*v, "LOCAL_RANK", 0, kMaxWorld - 1);
  if (o.world_size == 1) return o;

  if (!flags.master.empty()) {
    std::tie(o.master_addr, o.master_port) = parse_host_port(flags.master);
  } else {
    auto addr = var("MASTER_ADDR");
    auto port = var("MASTER_PORT");
    if (!addr || !port)
      throw UsageError("distributed: a world of " + std::to_string(o.world_size) +
                       " processes needs MASTER_ADDR and MASTER_PORT (or --master HOST:PORT) to find rank 0");
    o.master_addr = *addr;
    o.master_port = parse_int(*port, "MASTER_PORT", 1, 65535);
  }
  return o;
}

}  // namespace scrim
