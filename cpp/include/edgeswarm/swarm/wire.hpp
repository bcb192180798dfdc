#pragma once
// The gossip wire format: a 16-byte header and a Q16.16 vector, big-endian.
//
//   offset  size  field
//   0       4     node id (uint32)
//   4       4     epoch (uint32, wraps)
//   8       2     dimension d (uint16)
//   10      2     flags (uint16, bit 0: model, bit 1: sensor reading)
//   12      4     CRC-32 (IEEE) of the payload
//   16      4*d   coordinates, raw Q16.16 (int32)
//
// Bandwidth accounting counts exactly message_bytes(d) per message sent.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeswarm/core/fixed_point.hpp"

namespace edgeswarm::swarm {

inline constexpr std::size_t kWireHeaderBytes = 16;
inline constexpr std::size_t kMaxWireDim = 65535;

/// Size in bytes of one gossip message carrying a d-dimensional vector.
constexpr std::size_t message_bytes(std::size_t d) { return kWireHeaderBytes + 4 * d; }

struct WireMessage {
  std::uint32_t node = 0;
  std::uint32_t epoch = 0;
  std::uint16_t flags = 0;
  std::vector<fixed::q16> values;
};

/// Serialises a message; throws std::invalid_argument when d > kMaxWireDim.
std::vector<std::uint8_t> encode(const WireMessage& message);
/// Parses a message; throws std::invalid_argument on a short buffer, a length
/// that disagrees with the header, or a CRC mismatch.
WireMessage decode(const std::uint8_t* data, std::size_t size);
/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
std::uint32_t crc32(const std::uint8_t* data, std::size_t size);

/// Federated-learning baseline, per client per simulated day: every round each
/// client uploads its float32 model and downloads the global one, both with
/// the same 16-byte header:  2 * (16 + 4 * d) * (86,400,000 / epoch_ms).
double fl_bytes_per_node_day(std::size_t d, std::int64_t epoch_ms);

}  // namespace edgeswarm::swarm
