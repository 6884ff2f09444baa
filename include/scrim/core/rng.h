// Deterministic random streams. Work split across threads stays reproducible
// because every item derives its own stream from (seed, item index).
#pragma once

#include <cstdint>
#include <random>

namespace scrim {

// SplitMix64 (Steele, Lea, Flood 2014): a good 64-bit mixer for deriving seeds.
uint64_t splitmix64(uint64_t x);

// A seed for item `index` of stream `stream` under a user seed.
uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index);

// A small random helper over std::mt19937_64 with the draws scenes need.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double uniform(double lo = 0.0, double hi = 1.0) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  // Integer in [lo, hi], both inclusive.
  int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine_); }
  bool chance(double p) { return uniform() < p; }
  double normal(double mean, double stddev) {
    return std::normal_distribution<double>(mean, stddev)(engine_);
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace scrim
