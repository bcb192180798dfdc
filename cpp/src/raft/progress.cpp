#include "edgeswarm/raft/progress.hpp"

#include <algorithm>

namespace edgeswarm::raft {

bool Progress::paused(std::size_t max_inflight) const {
  switch (state) {
    case ProgressState::Probe:
      return probe_sent;
    case ProgressState::Replicate:
      return inflight.size() >= max_inflight;
    case ProgressState::Snapshot:
      return true;
  }
  return true;
}

bool Progress::update(std::uint64_t index) {
  bool updated = false;
  if (index > match) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  while (!inflight.empty() && inflight.front() <= index) inflight.pop_front();
  return updated;
}

bool Progress::decrease(std::uint64_t rejected, std::uint64_t hint_next) {
  if (state == ProgressState::Replicate) {
    if (rejected <= match) return false;  // an old rejection, overtaken by a later ack
  } else if (rejected + 1 != next) {
    return false;  // not the Append we are waiting for
  }
  next = std::max(match + 1, std::min(hint_next, rejected));
  state = ProgressState::Probe;  // a Replicate stream broke: find the follower's log again
  probe_sent = false;
  inflight.clear();
  return true;
}

void Progress::become_probe() {
  next = (state == ProgressState::Snapshot ? std::max(match, pending_snapshot) : match) + 1;
  state = ProgressState::Probe;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_ticks = 0;
  inflight.clear();
}

void Progress::become_replicate() {
  state = ProgressState::Replicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_ticks = 0;
  inflight.clear();
}

void Progress::become_snapshot(std::uint64_t index) {
  state = ProgressState::Snapshot;
  pending_snapshot = index;
  snapshot_ticks = 0;
  probe_sent = false;
  inflight.clear();
}

void Progress::sent(std::uint64_t last, std::size_t count) {
  if (state == ProgressState::Replicate) {
    if (count > 0) {
      next = last + 1;
      inflight.push_back(last);
    }
  } else if (state == ProgressState::Probe) {
    probe_sent = true;
  }
}

}  // namespace edgeswarm::raft
