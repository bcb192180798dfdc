#pragma once
// Portable seeded random numbers: xoshiro256** seeded by SplitMix64, with the
// project's own uniform and normal samplers (no std:: distributions, whose
// output differs between standard libraries).
//
// Independent streams come from (seed, stream id). The engine derives one
// stream per (node, epoch, purpose), so results do not depend on the order in
// which nodes are processed or on the thread count.

#include <cstdint>

namespace edgeswarm::core {

/// One SplitMix64 step: a strong 64-bit mixer, also used to derive streams.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Combines identifiers into one stream id (order matters).
inline std::uint64_t stream_id(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0) {
  std::uint64_t s = a;
  std::uint64_t h = splitmix64(s);
  s = h ^ b;
  h = splitmix64(s);
  s = h ^ c;
  return splitmix64(s);
}

/// Purposes keep streams for different uses of the same node apart.
enum class Purpose : std::uint64_t {
  Sense = 1,
  Attack = 2,
  Topology = 3,
  Roles = 4,
  Schedule = 5,
  Noise = 6,
  Selection = 7,
};

class Rng {
 public:
  /// Stream `stream` of generator `seed`; different streams are independent.
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0);

  /// Stream for (node, epoch, purpose) under `seed`.
  static Rng for_node(std::uint64_t seed, std::uint64_t node, std::uint64_t epoch, Purpose purpose) {
    return Rng(seed, stream_id(node, epoch, static_cast<std::uint64_t>(purpose)));
  }

  /// Next raw 64-bit output.
  std::uint64_t next_u64();
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Unbiased integer in [0, n); n must be > 0.
  std::uint64_t below(std::uint64_t n);
  /// Standard normal by the Marsaglia polar method (no cached second value,
  /// so each call depends only on the stream position).
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }

 private:
  std::uint64_t s_[4];
};

}  // namespace edgeswarm::core
