#pragma once
// The random fate of messages on a link with given LinkRules: whether a
// second copy is made and, per copy, whether it is lost and how long it takes.
// The Network decides every message it sends with one sampler, and batch draws
// (the edgeswarm.net facade, the fleet's uplinks, MQTT fault injection) use
// the same code, so a rule means the same thing wherever it is applied.
//
// Randomness: one RNG stream per purpose (latency, loss, duplication,
// reordering) derived from (seed, stream), so e.g. turning on loss does not
// shift the latency draws of the copies that survive. Per message, in order:
// a duplication draw (only if duplicate > 0); then per copy a loss draw (only
// if loss > 0) and, if the copy survives, a latency draw and a reorder draw
// (only if reorder > 0) followed by a reorder_delay draw when it is reordered.

#include <array>
#include <cstdint>

#include "edgeswarm/core/rng.hpp"
#include "edgeswarm/net/link_rules.hpp"

namespace edgeswarm::net {

/// Fate of one copy of a message.
struct CopyFate {
  bool lost = false;       ///< dropped by the link's loss draw
  bool reordered = false;  ///< held back by an extra reorder_delay draw
  SimTime delay_us = 0;    ///< one-way delay including any reorder delay (0 when lost)
};

/// Fate of one message: one copy, or two when the link duplicated it.
struct MessageFate {
  int copies = 1;                ///< 1 or 2; the duplicate, if any, is copy 0
  std::array<CopyFate, 2> copy;  ///< copy[0..copies-1]
};

/// Draws message fates from the four purpose streams of (seed, stream).
class LinkSampler {
 public:
  /// The streams of batch `stream` under `seed`; stream 0 gives a Network's own streams.
  explicit LinkSampler(std::uint64_t seed, std::uint64_t stream = 0);

  /// Fate of one message under `rules` (validated by the caller, see validate()).
  MessageFate message(const LinkRules& rules);

 private:
  CopyFate copy(const LinkRules& rules);

  core::Rng latency_, loss_, duplicate_, reorder_;
};

}  // namespace edgeswarm::net
