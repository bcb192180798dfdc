#include "edgeswarm/net/link_sampler.hpp"

namespace edgeswarm::net {
namespace {

// Network streams live apart from the swarm's (node, epoch, purpose) streams.
constexpr std::uint64_t kNetDomain = 0x4E45'5457'4F52'4B00ULL;  // "NETWORK\0"
enum Stream : std::uint64_t { kLatency = 1, kLoss = 2, kDuplicate = 3, kReorder = 4 };

core::Rng purpose_rng(std::uint64_t seed, Stream purpose, std::uint64_t stream) {
  return core::Rng(seed, core::stream_id(kNetDomain, purpose, stream));
}

}  // namespace

LinkSampler::LinkSampler(std::uint64_t seed, std::uint64_t stream)
    : latency_(purpose_rng(seed, kLatency, stream)),
      loss_(purpose_rng(seed, kLoss, stream)),
      duplicate_(purpose_rng(seed, kDuplicate, stream)),
      reorder_(purpose_rng(seed, kReorder, stream)) {}

MessageFate LinkSampler::message(const LinkRules& rules) {
  MessageFate fate;
  if (rules.duplicate > 0.0 && duplicate_.uniform() < rules.duplicate) fate.copies = 2;
  for (int k = 0; k < fate.copies; ++k) fate.copy[k] = copy(rules);
  return fate;
}

CopyFate LinkSampler::copy(const LinkRules& rules) {
  CopyFate c;
  if (rules.loss > 0.0 && loss_.uniform() < rules.loss) {
    c.lost = true;
    return c;
  }
  c.delay_us = rules.latency.sample(latency_);
  if (rules.reorder > 0.0 && reorder_.uniform() < rules.reorder) {
    c.reordered = true;
    c.delay_us += rules.reorder_delay.sample(reorder_);
  }
  return c;
}

}  // namespace edgeswarm::net
