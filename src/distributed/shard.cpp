#include "scrim/distributed/shard.h"

#include <charconv>

#include "scrim/core/error.h"

namespace scrim {

Shard parse_shard(const std::string& text, const std::string& what) {
  auto bad = [&] { return UsageError(what + " " + text + " is not I/N with 0 <= I < N"); };
  auto slash = text.find('/');
  if (slash == std::string::npos) throw bad();
  Shard s;
  const char* a = text.data();
  const char* mid = a + slash;
  const char* end = a + text.size();
  auto r1 = std::from_chars(a, mid, s.index);
  auto r2 = std::from_chars(mid + 1, end, s.count);
  if (slash == 0 || r1.ec != std::errc() || r1.ptr != mid || r2.ec != std::errc() || r2.ptr != end || mid + 1 == end) throw bad();
  if (s.count < 1 || s.index < 0 || s.index >= s.count) throw bad();
  return s;
}

Shard resolve_shard(const std::string& flag, const EnvLookup& env) {
  if (!flag.empty()) return parse_shard(flag);
  const char* world = env("WORLD_SIZE");
  if (world == nullptr || *world == '\0') return {};
  const char* rank = env("RANK");
  if (rank == nullptr || *rank == '\0') throw UsageError(std::string("WORLD_SIZE=") + world + " is set without RANK");
  return parse_shard(std::string(rank) + "/" + world, "RANK/WORLD_SIZE");
}

std::pair<size_t, size_t> shard_range(size_t n, const Shard& shard) {
  auto at = [&](int i) { return static_cast<size_t>(static_cast<unsigned __int128>(n) * i / shard.count); };
  return {at(shard.index), at(shard.index + 1)};
}

}  // namespace scrim
