#include "edgeswarm/swarm/wire.hpp"

#include <stdexcept>
#include <string>

namespace edgeswarm::swarm {
namespace {

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint16_t get_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]); }

}  // namespace

std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::vector<std::uint8_t> encode(const WireMessage& message) {
  const std::size_t d = message.values.size();
  if (d > kMaxWireDim) {
    throw std::invalid_argument("values: dimension " + std::to_string(d) + " exceeds the wire limit " +
                                std::to_string(kMaxWireDim));
  }
  std::vector<std::uint8_t> out(message_bytes(d));
  put_u32(&out[0], message.node);
  put_u32(&out[4], message.epoch);
  put_u16(&out[8], static_cast<std::uint16_t>(d));
  put_u16(&out[10], message.flags);
  for (std::size_t j = 0; j < d; ++j) {
    put_u32(&out[kWireHeaderBytes + 4 * j], static_cast<std::uint32_t>(message.values[j]));
  }
  put_u32(&out[12], crc32(out.data() + kWireHeaderBytes, 4 * d));
  return out;
}

WireMessage decode(const std::uint8_t* data, std::size_t size) {
  if (size < kWireHeaderBytes) {
    throw std::invalid_argument("data: " + std::to_string(size) + " bytes is shorter than the 16-byte header");
  }
  const std::size_t d = get_u16(data + 8);
  if (size != message_bytes(d)) {
    throw std::invalid_argument("data: " + std::to_string(size) + " bytes but the header announces d = " +
                                std::to_string(d) + " (" + std::to_string(message_bytes(d)) + " bytes)");
  }
  if (get_u32(data + 12) != crc32(data + kWireHeaderBytes, 4 * d)) {
    throw std::invalid_argument("data: CRC-32 mismatch");
  }
  WireMessage m;
  m.node = get_u32(data);
  m.epoch = get_u32(data + 4);
  m.flags = get_u16(data + 10);
  m.values.resize(d);
  for (std::size_t j = 0; j < d; ++j) {
    m.values[j] = static_cast<fixed::q16>(get_u32(data + kWireHeaderBytes + 4 * j));
  }
  return m;
}

double fl_bytes_per_node_day(std::size_t d, std::int64_t epoch_ms) {
  if (epoch_ms <= 0) throw std::invalid_argument("epoch_ms: must be > 0, got " + std::to_string(epoch_ms));
  const double rounds_per_day = 86'400'000.0 / static_cast<double>(epoch_ms);
  return 2.0 * static_cast<double>(message_bytes(d)) * rounds_per_day;
}

}  // namespace edgeswarm::swarm
