#include "edgeswarm/fleet/signal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../expect_invalid.hpp"

using namespace edgeswarm::fleet;

namespace {

struct Batch {
  std::vector<double> v;
  std::vector<std::uint8_t> l;
};

Batch run(const Fleet& f, std::int64_t t0, std::size_t steps, std::int64_t dt) {
  Batch b{std::vector<double>(f.size() * steps), std::vector<std::uint8_t>(f.size() * steps)};
  generate(f, t0, steps, dt, b.v.data(), b.l.data());
  return b;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

FleetParams quiet() {
  FleetParams p;
  p.fault_rate_per_day = 0.0;
  p.wear_fraction = 0.0;
  return p;
}

}  // namespace

TEST(Signal, SameSeedSameBitsDifferentSeedDiffers) {
  const Fleet a(200, 7), b(200, 7), c(200, 8);
  const Batch x = run(a, 0, 300, 60 * kSecondUs), y = run(b, 0, 300, 60 * kSecondUs),
              z = run(c, 0, 300, 60 * kSecondUs);
  EXPECT_TRUE(same_bits(x.v, y.v));
  EXPECT_EQ(x.l, y.l);
  EXPECT_FALSE(same_bits(x.v, z.v));
}

TEST(Signal, ChunkingDoesNotChangeReadings) {
  const Fleet f(50, 3);
  const std::int64_t dt = 30 * kSecondUs;
  const Batch whole = run(f, kHourUs, 400, dt);
  const Batch first = run(f, kHourUs, 150, dt), second = run(f, kHourUs + 150 * dt, 250, dt);
  for (std::size_t i = 0; i < f.size(); ++i)
    for (std::size_t k = 0; k < 400; ++k) {
      const double w = whole.v[i * 400 + k];
      const double s = k < 150 ? first.v[i * 150 + k] : second.v[i * 250 + k - 150];
      ASSERT_TRUE(std::memcmp(&w, &s, sizeof w) == 0) << i << " " << k;
    }
}

#ifdef _OPENMP
TEST(Signal, BitIdenticalForAnyThreadCount) {
  const Fleet f(1000, 11);
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const Batch one = run(f, 0, 100, 10 * kSecondUs);
  omp_set_num_threads(3);
  const Batch three = run(f, 0, 100, 10 * kSecondUs);
  omp_set_num_threads(before);
  EXPECT_TRUE(same_bits(one.v, three.v));
  EXPECT_EQ(one.l, three.l);
}
#endif

TEST(Signal, DailyCyclePeaksAtTheSpecHourWithPeriodOneDay) {
  const Fleet f(200, 5, SensorType::Temperature, quiet());
  const std::size_t steps = 4 * 24;  // hourly for four days
  const Batch b = run(f, 0, steps, kHourUs);
  const SensorSpec& spec = sensor_spec(SensorType::Temperature);
  std::vector<double> by_hour(24, 0.0);
  for (std::size_t i = 0; i < f.size(); ++i)
    for (std::size_t k = 0; k < steps; ++k) by_hour[k % 24] += b.v[i * steps + k] / (f.size() * 4.0);
  const int peak = static_cast<int>(std::max_element(by_hour.begin(), by_hour.end()) - by_hour.begin());
  const int trough = static_cast<int>(std::min_element(by_hour.begin(), by_hour.end()) - by_hour.begin());
  EXPECT_NEAR(peak, spec.peak_hour, 1.0);
  EXPECT_EQ((trough + 12) % 24, peak);
  EXPECT_NEAR(by_hour[peak] - by_hour[trough], 2.0 * spec.daily_amplitude, 0.5);
  // One device is periodic: same hour a day apart differs by noise only, half a day by the swing.
  double lag_day = 0.0, lag_half = 0.0;
  for (std::size_t k = 0; k + 24 < steps; ++k) {
    lag_day += std::abs(b.v[k + 24] - b.v[k]);
    lag_half += std::abs(b.v[k + 12] - b.v[k]);
  }
  EXPECT_LT(lag_day * 4, lag_half);
}

TEST(Signal, NoiseLevelMatchesTheDevice) {
  const Fleet f(20, 9, SensorType::Pressure, quiet());
  const std::size_t steps = 2000;
  const Batch b = run(f, 0, steps, kSecondUs);  // one-second steps: the cycle barely moves
  for (std::size_t i = 0; i < f.size(); ++i) {
    double ss = 0.0;
    for (std::size_t k = 1; k < steps; ++k) {
      const double d = b.v[i * steps + k] - b.v[i * steps + k - 1];
      ss += d * d;
    }
    const double sd = std::sqrt(ss / (2.0 * (steps - 1)));
    EXPECT_NEAR(sd / f.device(i).noise_sd, 1.0, 0.08) << i;
  }
}

TEST(Signal, FaultsAppearWhereLabelled) {
  FleetParams p = quiet();
  p.fault_rate_per_day = 12.0;
  const Fleet f(100, 21, SensorType::Pressure, p);
  const std::size_t steps = 24 * 60;
  const std::int64_t dt = 60 * kSecondUs;
  const Batch b = run(f, 0, steps, dt);
  std::array<int, kFaults> seen{};
  for (std::size_t i = 0; i < f.size(); ++i)
    for (std::size_t k = 0; k < steps; ++k) {
      const std::size_t at = i * steps + k;
      const auto kind = static_cast<Fault>(b.l[at]);
      ++seen[b.l[at]];
      const double clean = clean_reading(f, i, static_cast<std::int64_t>(k) * dt);
      EXPECT_EQ(std::isnan(b.v[at]), kind == Fault::Dropout);
      if (kind == Fault::None) {
        EXPECT_EQ(b.v[at], clean);
      }
      if (kind == Fault::Spike) {
        EXPECT_GE(std::abs(b.v[at] - clean), 7.9 * f.device(i).noise_sd);
      }
      if (kind == Fault::Stuck) {  // held at the reading when the (first active) window began
        std::vector<FaultWindow> ws;
        const std::int64_t t = static_cast<std::int64_t>(k) * dt;
        fault_windows(f, i, t, t + 1, ws);
        ASSERT_FALSE(ws.empty());
        EXPECT_EQ(ws.front().kind, Fault::Stuck);
        EXPECT_EQ(b.v[at], clean_reading(f, i, ws.front().start_us));
      }
    }
  for (int kind = 1; kind <= 4; ++kind) EXPECT_GT(seen[kind], 0) << to_string(static_cast<Fault>(kind));
}

TEST(Signal, WearEndsInFailure) {
  FleetParams p = quiet();
  p.wear_fraction = 1.0;
  p.wear_horizon_days = 2.0;
  const Fleet f(30, 4, SensorType::Vibration, p);
  const std::size_t steps = 2 * 24 * 6;
  const std::int64_t dt = 10 * 60 * kSecondUs;
  const Batch b = run(f, 0, steps, dt);
  for (std::size_t i = 0; i < f.size(); ++i) {
    const Device& d = f.device(i);
    ASSERT_LT(d.failure_us, 2 * kDayUs);
    ASSERT_LT(d.wear_onset_us, d.failure_us);
    EXPECT_EQ(f.health(i, d.wear_onset_us), 1.0);
    EXPECT_EQ(f.health(i, d.failure_us), 0.0);
    EXPECT_GT(f.health(i, (d.wear_onset_us + d.failure_us) / 2), 0.0);
    const auto last = static_cast<std::size_t>((d.failure_us - 1) / dt);
    for (std::size_t k = last + 1; k < steps; ++k) {
      EXPECT_TRUE(std::isnan(b.v[i * steps + k]));
      EXPECT_EQ(b.l[i * steps + k], static_cast<std::uint8_t>(Fault::Failure));
    }
    // Vibration rises as the device wears: the last hour before failure reads above the first.
    EXPECT_GT(b.v[i * steps + last], b.v[i * steps] + 5 * d.noise_sd);
  }
}

TEST(Signal, RejectsBadWindows) {
  const Fleet f(3, 1);
  std::vector<double> v(3);
  std::vector<std::uint8_t> l(3);
  expect_invalid([&] { generate(f, 0, 1, 0, v.data(), l.data()); }, "dt_us");
  expect_invalid([&] { generate(f, -1, 1, 1, v.data(), l.data()); }, "t0_us");
}
