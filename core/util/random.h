#pragma once

#include <cstdint>
#include <string_view>

namespace synthlens {

// 64-bit FNV-1a of a string; stable across platforms and runs (used to key seeds by image id).
uint64_t HashString(std::string_view text);

// Mixes values into one well-distributed 64-bit seed (SplitMix64 finaliser chain).
uint64_t MixSeed(uint64_t a, uint64_t b);

// The seed of one view: a pure function of (user seed, source id, view index, stream), so a view's
// bytes never depend on thread count or processing order.
uint64_t ViewSeed(uint64_t seed, std::string_view source_id, int64_t view_index, uint64_t stream = 0);

// A small, fast, platform-independent generator (xoshiro256**). Its distributions are defined here,
// not by the standard library, so the same seed gives the same draws with any compiler.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] (inclusive), unbiased.
  int64_t UniformInt(int64_t lo, int64_t hi);
  bool Bernoulli(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller, both values used).
  double Normal();

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace synthlens
