#pragma once

// Seeded randomness for policies (jitter, probing) and the simulator:
// SplitMix64, small and fast, identical on every platform, so a seed gives
// the same run everywhere. Never seeded from the clock or the OS.

#include <cstdint>

namespace batching {

class seeded_random {
public:
  explicit seeded_random(std::uint64_t seed = 0x9e3779b97f4a7c15ull)
    : state_(seed) {
    // nop
  }

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

private:
  std::uint64_t state_;
};

} // namespace batching
