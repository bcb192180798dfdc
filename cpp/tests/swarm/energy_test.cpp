#include "edgeswarm/swarm/energy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../expect_invalid.hpp"

using edgeswarm::swarm::EnergyParams;
using edgeswarm::swarm::Regime;
using edgeswarm::swarm::Role;
using edgeswarm::swarm::SleepScheduler;

namespace {

constexpr std::int64_t kEpochMs = 500;
constexpr std::uint64_t kDayEpochs = 86400 * 1000 / kEpochMs;     // 172800
constexpr std::int64_t kCalmEpochs = 4 * 3600 * 1000 / kEpochMs;  // 28800

EnergyParams mix(double sentinel, double on_demand) {
  EnergyParams p;
  p.sentinel_fraction = sentinel;
  p.on_demand_fraction = on_demand;
  return p;
}

}  // namespace

TEST(EnergyParams, ValidationNamesTheField) {
  auto make = [](auto set, std::int64_t epoch_ms = kEpochMs) {
    EnergyParams p;
    set(p);
    return SleepScheduler(4, p, 1, epoch_ms);
  };
  expect_invalid([&] { make([](EnergyParams& p) { p.calm_interval_s = 0; }); }, "calm_interval_s");
  expect_invalid([&] { make([](EnergyParams& p) { p.prestorm_interval_s = -1; }); }, "prestorm_interval_s");
  expect_invalid([&] { make([](EnergyParams& p) { p.storm_interval_s = std::nan(""); }); }, "storm_interval_s");
  expect_invalid([&] { make([](EnergyParams& p) { p.wake_burst_epochs = 0; }); }, "wake_burst_epochs");
  expect_invalid([&] { make([](EnergyParams& p) { p.sentinel_fraction = 1.5; }); }, "sentinel_fraction");
  expect_invalid([&] { make([](EnergyParams& p) { p.on_demand_fraction = -0.1; }); }, "on_demand_fraction");
  expect_invalid(
      [&] {
        make([](EnergyParams& p) {
          p.sentinel_fraction = 0.6;
          p.on_demand_fraction = 0.5;
        });
      },
      "on_demand_fraction");
  expect_invalid([&] { make([](EnergyParams& p) { p.awake_mw = -1; }); }, "awake_mw");
  expect_invalid([&] { make([](EnergyParams& p) { p.asleep_mw = -0.1; }); }, "asleep_mw");
  expect_invalid([&] { make([](EnergyParams& p) { p.tx_uj_per_byte = -1; }); }, "tx_uj_per_byte");
  expect_invalid([&] { make([](EnergyParams& p) { p.tx_uj_per_message = std::nan(""); }); }, "tx_uj_per_message");
  expect_invalid([&] { make([](EnergyParams&) {}, 0); }, "epoch_ms");
  EXPECT_NO_THROW(make([](EnergyParams& p) {
    p.sentinel_fraction = 0.7;
    p.on_demand_fraction = 0.3;
  }));
}

TEST(SleepScheduler, RoleFractionsMatchTheParameters) {
  const std::size_t n = 20000;
  SleepScheduler s(n, mix(0.2, 0.3), 7, kEpochMs);
  std::size_t counts[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) ++counts[static_cast<int>(s.role(i))];
  // Binomial sd is 57, 65 and 71 nodes; 300 is over 4 sd.
  EXPECT_NEAR(static_cast<double>(counts[static_cast<int>(Role::Sentinel)]), 4000, 300);
  EXPECT_NEAR(static_cast<double>(counts[static_cast<int>(Role::OnDemand)]), 6000, 300);
  EXPECT_NEAR(static_cast<double>(counts[static_cast<int>(Role::Scheduled)]), 10000, 300);

  SleepScheduler all_sentinel(100, mix(1.0, 0.0), 7, kEpochMs);
  SleepScheduler all_on_demand(100, mix(0.0, 1.0), 7, kEpochMs);
  SleepScheduler all_scheduled(100, mix(0.0, 0.0), 7, kEpochMs);
  for (std::size_t i = 0; i < 100; ++i) {
    ASSERT_EQ(all_sentinel.role(i), Role::Sentinel);
    ASSERT_EQ(all_on_demand.role(i), Role::OnDemand);
    ASSERT_EQ(all_scheduled.role(i), Role::Scheduled);
  }
}

TEST(SleepScheduler, RolesDependOnSeedAndNodeOnlyNotOnSwarmSize) {
  SleepScheduler small(50, mix(0.3, 0.3), 11, kEpochMs);
  SleepScheduler big(500, mix(0.3, 0.3), 11, kEpochMs);
  SleepScheduler other(50, mix(0.3, 0.3), 12, kEpochMs);
  int differ = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    ASSERT_EQ(small.role(i), big.role(i));
    differ += small.role(i) != other.role(i);
  }
  EXPECT_GT(differ, 0);
}

TEST(SleepScheduler, IntervalEpochsFollowTheFormula) {
  SleepScheduler s(1, EnergyParams{}, 1, kEpochMs);
  EXPECT_EQ(s.interval_epochs(Regime::Calm, 0.5), kCalmEpochs);
  EXPECT_EQ(s.interval_epochs(Regime::PreStorm, 0.5), 1200);
  EXPECT_EQ(s.interval_epochs(Regime::Storm, 0.5), 60);
  // 60 / (0.5 + r): trusted nodes are sampled more often.
  EXPECT_EQ(s.interval_epochs(Regime::Storm, 1.0), 40);
  EXPECT_EQ(s.interval_epochs(Regime::Storm, 0.0), 120);
  EXPECT_EQ(s.interval_epochs(Regime::Storm, 0.25), 80);
  EXPECT_LT(s.interval_epochs(Regime::Calm, 1.0), s.interval_epochs(Regime::Calm, 0.0));
  // Clamped to [0, 1].
  EXPECT_EQ(s.interval_epochs(Regime::Storm, 7.0), 40);
  EXPECT_EQ(s.interval_epochs(Regime::Storm, -3.0), 120);
  // 60 / 1.4 = 42.857 rounds to 43.
  EXPECT_EQ(s.interval_epochs(Regime::Storm, 0.9), 43);
  expect_invalid([&] { s.interval_epochs(Regime::Storm, std::nan("")); }, "reputation");
  expect_invalid([&] { s.interval_epochs(static_cast<Regime>(5), 0.5); }, "regime");

  EnergyParams tiny;
  tiny.storm_interval_s = 0.1;  // 0.13 epochs: at least one
  SleepScheduler t(1, tiny, 1, kEpochMs);
  EXPECT_EQ(t.interval_epochs(Regime::Storm, 1.0), 1);
}

TEST(SleepScheduler, SentinelsAreAlwaysAwake) {
  const std::size_t n = 64;
  SleepScheduler s(n, EnergyParams{}, 3, kEpochMs);  // default: all sentinels
  std::vector<double> rep(n, 0.5);
  std::vector<std::uint8_t> awake(n, 0);
  const Regime regimes[] = {Regime::Calm, Regime::PreStorm, Regime::Storm, Regime::Calm};
  for (std::uint64_t e = 0; e < 2000; ++e) {
    const Regime r = regimes[(e / 500) % 4];
    s.plan_epoch(e, r, e == 500 || e == 1000, rep.data(), awake.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(awake[i], 1) << "node " << i << " epoch " << e;
    s.charge(awake.data(), nullptr, nullptr);
  }
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(s.sleep_ratio(i), 0.0);
}

TEST(SleepScheduler, ScheduledNodesInCalmWakeOncePerFourHoursForOneBurst) {
  const std::size_t n = 300;
  SleepScheduler s(n, mix(0.0, 0.0), 5, kEpochMs);
  std::vector<double> rep(n, 0.5);
  std::vector<std::uint8_t> awake(n, 0), prev(n, 0);
  std::vector<std::vector<std::uint64_t>> starts(n);
  std::vector<std::uint64_t> awake_epochs(n, 0);
  for (std::uint64_t e = 0; e < kDayEpochs; ++e) {
    s.plan_epoch(e, Regime::Calm, false, rep.data(), awake.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (awake[i] && !prev[i]) starts[i].push_back(e);
      awake_epochs[i] += awake[i];
    }
    s.charge(awake.data(), nullptr, nullptr);
    prev = awake;
  }
  double sum_first = 0, sum_sq_first = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // A day holds six 4-hour intervals; the first wake-up lies in the first one.
    ASSERT_EQ(starts[i].size(), 6u) << "node " << i;
    ASSERT_LT(starts[i][0], static_cast<std::uint64_t>(kCalmEpochs));
    for (std::size_t k = 1; k < starts[i].size(); ++k) {
      ASSERT_EQ(starts[i][k] - starts[i][k - 1], static_cast<std::uint64_t>(kCalmEpochs));
    }
    // Six bursts of two epochs (the last one may run past the end of the day).
    ASSERT_GE(awake_epochs[i], 11u);
    ASSERT_LE(awake_epochs[i], 12u);
    EXPECT_NEAR(s.sleep_ratio(i), 1.0 - static_cast<double>(awake_epochs[i]) / kDayEpochs, 1e-15);
    EXPECT_GT(s.sleep_ratio(i), 0.9999);
    const auto first = static_cast<double>(starts[i][0]);
    sum_first += first;
    sum_sq_first += first * first;
  }
  // First wake-ups are uniform over [0, 28800): mean 14400, sd 8314. The
  // standard error of the mean over 300 nodes is 480.
  const double mean = sum_first / n;
  const double sd = std::sqrt(sum_sq_first / n - mean * mean);
  EXPECT_NEAR(mean, kCalmEpochs / 2.0, 2000);
  EXPECT_NEAR(sd, kCalmEpochs / std::sqrt(12.0), 1000);
}

TEST(SleepScheduler, OnDemandNodesSleepUntilAnEscalation) {
  const std::size_t n = 20;
  SleepScheduler s(n, mix(0.0, 1.0), 5, kEpochMs);
  std::vector<double> rep(n, 0.5);
  std::vector<std::uint8_t> awake(n, 0);
  for (std::uint64_t e = 0; e < 5000; ++e) {
    s.plan_epoch(e, Regime::Calm, false, rep.data(), awake.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(awake[i], 0);
  }
}

TEST(SleepScheduler, EscalationWakesEveryoneAndShortensIntervals) {
  const std::size_t n = 3000;
  SleepScheduler s(n, mix(0.2, 0.3), 9, kEpochMs);
  std::vector<double> rep(n, 0.5);
  std::vector<std::uint8_t> awake(n, 0);
  const std::uint64_t t0 = 1000;
  for (std::uint64_t e = 0; e < t0; ++e) s.plan_epoch(e, Regime::Calm, false, rep.data(), awake.data());

  s.plan_epoch(t0, Regime::Storm, true, rep.data(), awake.data());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(awake[i], 1) << "node " << i;

  const std::int64_t storm = s.interval_epochs(Regime::Storm, 0.5);
  ASSERT_EQ(storm, 60);
  for (std::uint64_t e = t0 + 1; e < t0 + 400; ++e) {
    s.plan_epoch(e, Regime::Storm, false, rep.data(), awake.data());
    const std::uint64_t phase = (e - t0) % static_cast<std::uint64_t>(storm);
    for (std::size_t i = 0; i < n; ++i) {
      switch (s.role(i)) {
        case Role::Sentinel:
          ASSERT_EQ(awake[i], 1);
          break;
        case Role::OnDemand:  // one burst of 2 epochs, then asleep
          ASSERT_EQ(awake[i], e == t0 + 1 ? 1 : 0) << "node " << i << " epoch " << e;
          break;
        case Role::Scheduled:  // bursts of 2 epochs every 60
          ASSERT_EQ(awake[i], phase < 2 ? 1 : 0) << "node " << i << " epoch " << e;
          break;
      }
    }
  }
}

TEST(SleepScheduler, PreStormToStormEscalationPullsWakeUpsIn) {
  const std::size_t n = 10;
  SleepScheduler s(n, mix(0.0, 0.0), 2, kEpochMs);
  std::vector<double> rep(n, 0.5);
  std::vector<std::uint8_t> awake(n, 0);
  s.plan_epoch(0, Regime::PreStorm, true, rep.data(), awake.data());  // next wake at 1200
  for (std::uint64_t e = 1; e < 100; ++e) s.plan_epoch(e, Regime::PreStorm, false, rep.data(), awake.data());
  s.plan_epoch(100, Regime::Storm, true, rep.data(), awake.data());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(awake[i], 1);
  for (std::uint64_t e = 101; e <= 160; ++e) s.plan_epoch(e, Regime::Storm, false, rep.data(), awake.data());
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(awake[i], 1) << "woke at 160, not 1200";
}

TEST(SleepScheduler, TrustedNodesWakeMoreOften) {
  const std::size_t n = 2;
  SleepScheduler s(n, mix(0.0, 0.0), 4, kEpochMs);
  const std::vector<double> rep{1.0, 0.0};
  std::vector<std::uint8_t> awake(n, 0), prev(n, 0);
  std::vector<std::vector<std::uint64_t>> starts(n);
  for (std::uint64_t e = 0; e < 600; ++e) {
    s.plan_epoch(e, Regime::Storm, e == 0, rep.data(), awake.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (awake[i] && !prev[i]) starts[i].push_back(e);
    }
    prev = awake;
  }
  EXPECT_EQ(starts[0],
            (std::vector<std::uint64_t>{0, 40, 80, 120, 160, 200, 240, 280, 320, 360, 400, 440, 480, 520, 560}));
  EXPECT_EQ(starts[1], (std::vector<std::uint64_t>{0, 120, 240, 360, 480}));
}

TEST(SleepScheduler, SameSeedSameSchedule) {
  const std::size_t n = 500;
  SleepScheduler a(n, mix(0.1, 0.2), 77, kEpochMs), b(n, mix(0.1, 0.2), 77, kEpochMs);
  std::vector<double> rep(n);
  for (std::size_t i = 0; i < n; ++i) rep[i] = static_cast<double>(i % 11) / 10.0;
  std::vector<std::uint8_t> wa(n), wb(n);
  Regime prev = Regime::Calm;
  for (std::uint64_t e = 0; e < 3000; ++e) {
    const Regime r = e < 1000 ? Regime::Calm : (e < 2000 ? Regime::PreStorm : Regime::Storm);
    a.plan_epoch(e, r, r > prev, rep.data(), wa.data());
    b.plan_epoch(e, r, r > prev, rep.data(), wb.data());
    ASSERT_EQ(wa, wb) << "epoch " << e;
    a.charge(wa.data(), nullptr, nullptr);
    b.charge(wb.data(), nullptr, nullptr);
    prev = r;
  }
  EXPECT_EQ(a.energy_mj(), b.energy_mj());
}

TEST(SleepScheduler, AlwaysAwakeNodeUsesAwakePowerTimesADay) {
  const std::size_t n = 8;
  SleepScheduler s(n, EnergyParams{}, 1, kEpochMs);
  std::vector<double> rep(n, 0.5);
  std::vector<std::uint8_t> awake(n);
  for (std::uint64_t e = 0; e < kDayEpochs; ++e) {
    s.plan_epoch(e, Regime::Calm, false, rep.data(), awake.data());
    s.charge(awake.data(), nullptr, nullptr);
  }
  EXPECT_EQ(s.epochs_charged(), kDayEpochs);
  for (std::size_t i = 0; i < n; ++i) EXPECT_DOUBLE_EQ(s.energy_mj()[i], 60.0 * 86400.0);
}

TEST(SleepScheduler, AsleepNodeUsesSleepPower) {
  SleepScheduler s(1, mix(0.0, 1.0), 1, kEpochMs);  // one on-demand node, never escalated
  std::vector<double> rep(1, 0.5);
  std::uint8_t awake = 1;
  for (std::uint64_t e = 0; e < kDayEpochs; ++e) {
    s.plan_epoch(e, Regime::Calm, false, rep.data(), &awake);
    s.charge(&awake, nullptr, nullptr);
  }
  EXPECT_NEAR(s.energy_mj()[0], 0.01 * 86400.0, 1e-9);
  EXPECT_EQ(s.sleep_ratio(0), 1.0);
}

TEST(SleepScheduler, TransmitEnergyFollowsTheFormula) {
  EnergyParams p = mix(0.0, 1.0);
  p.tx_uj_per_byte = 0.5;
  p.tx_uj_per_message = 20.0;
  SleepScheduler s(2, p, 1, kEpochMs);
  const std::uint8_t awake[2] = {0, 1};
  const std::uint64_t bytes[2] = {1000, 0};
  const std::uint32_t messages[2] = {3, 7};
  s.charge(awake, bytes, messages);
  // Node 0: 0.01 mW * 0.5 s + (1000 * 0.5 + 3 * 20) uJ = 0.005 + 0.56 mJ.
  EXPECT_NEAR(s.energy_mj()[0], 0.565, 1e-12);
  // Node 1: 60 mW * 0.5 s + 7 * 20 uJ = 30 + 0.14 mJ.
  EXPECT_NEAR(s.energy_mj()[1], 30.14, 1e-12);
  EXPECT_EQ(s.sleep_ratio(0), 1.0);
  EXPECT_EQ(s.sleep_ratio(1), 0.0);
}

TEST(SleepScheduler, SleepRatioIsZeroBeforeAnyChargeAndChecksTheIndex) {
  SleepScheduler s(3, mix(0.0, 0.0), 1, kEpochMs);
  EXPECT_EQ(s.sleep_ratio(2), 0.0);
  expect_invalid([&] { s.sleep_ratio(3); }, "i");
}

TEST(SleepScheduler, BadPlanInputLeavesTheScheduleIntact) {
  const std::size_t n = 50;
  SleepScheduler a(n, mix(0.0, 0.5), 3, kEpochMs), b(n, mix(0.0, 0.5), 3, kEpochMs);
  std::vector<double> rep(n, 0.5), bad = rep;
  bad[n - 1] = std::nan("");
  std::vector<std::uint8_t> wa(n), wb(n);
  expect_invalid([&] { a.plan_epoch(0, Regime::Storm, true, bad.data(), wa.data()); }, "reputation");
  expect_invalid([&] { a.plan_epoch(0, static_cast<Regime>(3), true, rep.data(), wa.data()); }, "regime");
  for (std::uint64_t e = 0; e < 200; ++e) {
    a.plan_epoch(e, Regime::Storm, e == 0, rep.data(), wa.data());
    b.plan_epoch(e, Regime::Storm, e == 0, rep.data(), wb.data());
    ASSERT_EQ(wa, wb);
  }
}

TEST(Role, Names) {
  EXPECT_EQ(to_string(Role::Sentinel), "sentinel");
  EXPECT_EQ(to_string(Role::OnDemand), "on_demand");
  EXPECT_EQ(to_string(Role::Scheduled), "scheduled");
}
