#include "edgeswarm/net/link_sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "edgeswarm/net/network.hpp"

using edgeswarm::net::LatencyModel;
using edgeswarm::net::LinkRules;
using edgeswarm::net::LinkSampler;
using edgeswarm::net::MessageFate;
using edgeswarm::net::Network;
using edgeswarm::net::Occurrence;
using edgeswarm::net::SimTime;
using Kind = edgeswarm::net::OccurrenceKind;

namespace {

LinkRules chaos_rules() {
  LinkRules r;
  r.latency = LatencyModel::uniform(200, 3000);
  r.loss = 0.1;
  r.duplicate = 0.1;
  r.reorder = 0.2;
  r.reorder_delay = LatencyModel::uniform(0, 5000);
  return r;
}

// Delays of the surviving copies of each message, sorted.
std::vector<std::vector<SimTime>> surviving_delays(LinkSampler& s, const LinkRules& r, int n) {
  std::vector<std::vector<SimTime>> out(n);
  for (int i = 0; i < n; ++i) {
    const MessageFate f = s.message(r);
    for (int k = 0; k < f.copies; ++k) {
      if (!f.copy[k].lost) out[i].push_back(f.copy[k].delay_us);
    }
    std::sort(out[i].begin(), out[i].end());
  }
  return out;
}

}  // namespace

TEST(LinkSampler, StreamZeroDecidesExactlyWhatTheNetworkDoes) {
  // The network's fate of every message is the sampler's: same copies, same delays.
  const LinkRules r = chaos_rules();
  const int n = 2000;
  Network net(2, 42, r);
  for (int i = 0; i < n; ++i) net.send(0, 1, {}, i);
  std::vector<std::vector<SimTime>> arrived(n);
  Occurrence ev;
  while (net.step(ev)) {
    if (ev.kind == Kind::Message) arrived[ev.tag].push_back(ev.time);
  }
  for (auto& a : arrived) std::sort(a.begin(), a.end());
  LinkSampler s(42, 0);
  EXPECT_EQ(surviving_delays(s, r, n), arrived);
}

TEST(LinkSampler, SameStreamSameFatesOtherStreamOthers) {
  const LinkRules r = chaos_rules();
  LinkSampler a(7, 3), b(7, 3), c(7, 4);
  const auto fa = surviving_delays(a, r, 500);
  EXPECT_EQ(fa, surviving_delays(b, r, 500));
  EXPECT_NE(fa, surviving_delays(c, r, 500));
}

TEST(LinkSampler, RatesMatchTheRules) {
  LinkRules r = chaos_rules();
  r.loss = 0.2;
  r.duplicate = 0.3;
  r.reorder = 0.4;
  LinkSampler s(11, 1);
  const int n = 100000;
  int copies = 0, lost = 0, reordered = 0, duplicated = 0;
  for (int i = 0; i < n; ++i) {
    const MessageFate f = s.message(r);
    duplicated += f.copies == 2;
    for (int k = 0; k < f.copies; ++k) {
      ++copies;
      lost += f.copy[k].lost;
      reordered += f.copy[k].reordered;
      if (f.copy[k].lost) {
        EXPECT_EQ(f.copy[k].delay_us, 0);
      } else if (!f.copy[k].reordered) {
        EXPECT_GE(f.copy[k].delay_us, 200);
        EXPECT_LE(f.copy[k].delay_us, 3000);
      }
    }
  }
  // Five binomial standard deviations.
  auto near = [](int k, int trials, double p) {
    return std::abs(k - trials * p) < 5.0 * std::sqrt(trials * p * (1 - p));
  };
  EXPECT_TRUE(near(duplicated, n, 0.3)) << duplicated;
  EXPECT_TRUE(near(lost, copies, 0.2)) << lost;
  EXPECT_TRUE(near(reordered, copies - lost, 0.4)) << reordered;
}

TEST(LinkSampler, LossDoesNotShiftTheLatencyOfSurvivors) {
  // The k-th surviving copy gets the k-th latency draw whatever the loss.
  LinkRules clean;
  clean.latency = LatencyModel::uniform(0, 1000000);
  LinkRules lossy = clean;
  lossy.loss = 0.5;
  LinkSampler a(5, 9), b(5, 9);
  std::vector<SimTime> survivors, reference;
  for (int i = 0; i < 1000; ++i) {
    const MessageFate f = b.message(lossy);
    if (!f.copy[0].lost) survivors.push_back(f.copy[0].delay_us);
  }
  for (std::size_t i = 0; i < survivors.size(); ++i) reference.push_back(a.message(clean).copy[0].delay_us);
  ASSERT_GT(survivors.size(), 400u);
  EXPECT_EQ(survivors, reference);
}
