#include "edgeswarm/swarm/wire.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace edgeswarm::swarm;

TEST(Wire, Crc32OfTheStandardCheckString) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()), 0xCBF43926u);
}

TEST(Wire, RoundTripAndSize) {
  WireMessage m{42, 7, 1, {65536, -65536, 123, edgeswarm::fixed::kMin}};
  const auto bytes = encode(m);
  ASSERT_EQ(bytes.size(), message_bytes(4));
  EXPECT_EQ(bytes.size(), 32u);
  const auto back = decode(bytes.data(), bytes.size());
  EXPECT_EQ(back.node, 42u);
  EXPECT_EQ(back.epoch, 7u);
  EXPECT_EQ(back.flags, 1u);
  EXPECT_EQ(back.values, m.values);
}

TEST(Wire, CorruptionIsDetected) {
  auto bytes = encode(WireMessage{1, 2, 0, {1, 2, 3}});
  bytes[20] ^= 0x01;
  EXPECT_THROW(decode(bytes.data(), bytes.size()), std::invalid_argument);
  EXPECT_THROW(decode(bytes.data(), 10), std::invalid_argument);
  EXPECT_THROW(decode(bytes.data(), bytes.size() - 1), std::invalid_argument);
}

TEST(Wire, FederatedBaselineFormula) {
  // 2 * (16 + 4 * 10) bytes per round, 172,800 rounds a day at 500 ms.
  EXPECT_DOUBLE_EQ(fl_bytes_per_node_day(10, 500), 2.0 * 56 * 172800);
  EXPECT_THROW(fl_bytes_per_node_day(1, 0), std::invalid_argument);
}
