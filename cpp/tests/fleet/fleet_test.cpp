#include "edgeswarm/fleet/fleet.hpp"

#include <gtest/gtest.h>

#include "../expect_invalid.hpp"

using namespace edgeswarm::fleet;

TEST(Fleet, DevicesFollowTheMixAndStayInTheArea) {
  FleetParams p;
  p.device_mix = {1, 0, 0, 0, 0, 1};
  const Fleet f(2000, 2, p);
  int drones = 0;
  for (const Device& d : f.devices()) {
    EXPECT_TRUE(d.type == DeviceType::Sensor || d.type == DeviceType::Drone);
    drones += d.type == DeviceType::Drone;
    EXPECT_GE(d.x, 0.0);
    EXPECT_LT(d.x, p.area_m);
    EXPECT_LT(d.signal_dbm, -30.0 + 15.0);
  }
  EXPECT_NEAR(drones / 2000.0, 0.5, 0.05);
}

TEST(Fleet, BatteryDrainsOrRecharges) {
  const Fleet f(500, 3);
  for (std::size_t i = 0; i < f.size(); ++i) {
    const Device& d = f.device(i);
    for (std::int64_t day = 0; day < 200; day += 7) {
      const double b = f.battery(i, day * kDayUs);
      if (mains_powered(d.type)) {
        EXPECT_EQ(b, 100.0);
      } else if (recharges(d.type)) {
        EXPECT_GE(b, 20.0 - 1e-9);
        EXPECT_LE(b, 100.0);
      } else {
        EXPECT_GE(b, 0.0);
        EXPECT_LE(b, f.battery(i, 0));
      }
    }
  }
}

TEST(Fleet, OfflineBufferFillsToCapacity) {
  FleetParams p;
  p.offline_dbm = 0.0;  // nobody reaches the uplink
  const Fleet f(5, 4, p);
  const DeviceState early = f.state(0, 100 * kSecondUs);
  EXPECT_FALSE(early.online);
  EXPECT_EQ(early.buffered, 10u);
  const DeviceState late = f.state(0, kDayUs);
  EXPECT_EQ(late.buffered, 1000u);
  EXPECT_EQ(late.dropped, 8640u - 1000u);
}

TEST(Fleet, OutagesBufferThenFlush) {
  FleetParams p;
  p.outage_rate_per_day = 24.0;  // one outage every hour
  p.offline_dbm = -1000.0;
  const Fleet f(20, 5, p);
  int offline = 0, buffering_online = 0;
  for (std::size_t i = 0; i < f.size(); ++i)
    for (std::int64_t t = 0; t < 3 * kHourUs; t += 20 * kSecondUs) {
      const DeviceState s = f.state(i, t);
      EXPECT_LE(s.buffered, p.buffer_capacity);
      offline += !s.online;
      buffering_online += s.online && s.buffered > 0;
    }
  EXPECT_GT(offline, 0);
  EXPECT_GT(buffering_online, 0);
}

TEST(Fleet, RejectsBadOptions) {
  expect_invalid([] { Fleet(0, 1); }, "n_devices");
  FleetParams p;
  p.device_mix = {0, 0, 0, 0, 0, 0};
  expect_invalid([&] { Fleet(5, 1, p); }, "device_mix");
  p = {};
  p.sensor_mix[3] = -1;
  expect_invalid([&] { Fleet(5, 1, p); }, "sensor_mix");
  p = {};
  p.wear_fraction = 1.5;
  expect_invalid([&] { Fleet(5, 1, p); }, "wear_fraction");
  expect_invalid([] { parse_sensor_type("lidar", "sensor"); }, "sensor");
  EXPECT_EQ(parse_device_type("drone", "t"), DeviceType::Drone);
}
