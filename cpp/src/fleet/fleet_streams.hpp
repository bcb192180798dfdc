#pragma once
// Stream tags that keep the fleet's uses of core::Rng apart (private to src/fleet).
#include <cstdint>

namespace edgeswarm::fleet {
inline constexpr std::uint64_t kDeviceStream = 0xF1EE7'0001;
inline constexpr std::uint64_t kNoiseStream = 0xF1EE7'0002;
inline constexpr std::uint64_t kFaultStream = 0xF1EE7'0003;
inline constexpr std::uint64_t kOutageStream = 0xF1EE7'0004;
inline constexpr std::uint64_t kClusterStream = 0xF1EE7'0005;
}  // namespace edgeswarm::fleet
