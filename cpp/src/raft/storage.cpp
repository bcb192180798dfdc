#include "edgeswarm/raft/storage.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/raft/conf_change.hpp"

namespace edgeswarm::raft {

Storage Storage::bootstrap(const std::vector<NodeId>& voters) {
  core::require(!voters.empty(), "voters", "[]", "a non-empty list of distinct ids >= 1");
  const std::set<NodeId> distinct(voters.begin(), voters.end());
  core::require(distinct.size() == voters.size() && *distinct.begin() != kNoNode, "voters",
                std::to_string(voters.size()) + " ids", "a non-empty list of distinct ids >= 1");
  Storage s;
  for (NodeId v : voters) {
    Entry e;
    e.term = 1;
    e.index = s.entries_.size() + 1;
    e.type = EntryType::ConfChange;
    e.data = encode(ConfChange{ConfChangeType::AddNode, v});
    s.entries_.push_back(std::move(e));
  }
  s.hard_state_ = {1, kNoNode, s.entries_.size()};
  return s;
}

void Storage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const std::uint64_t first = entries.front().index;
  core::require(first > snapshot_.index && first <= last_index() + 1, "entries", "first index " + std::to_string(first),
                "[" + std::to_string(snapshot_.index + 1) + ", " + std::to_string(last_index() + 1) + "]");
  entries_.resize(first - snapshot_.index - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

void Storage::apply_snapshot(const Snapshot& snapshot) {
  const bool keeps_tail = snapshot.index > snapshot_.index && snapshot.index <= last_index() &&
                          entries_[snapshot.index - snapshot_.index - 1].term == snapshot.term;
  if (keeps_tail) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(snapshot.index - snapshot_.index));
  } else {
    entries_.clear();
  }
  snapshot_ = snapshot;
}

void Storage::compact(const Snapshot& snapshot) {
  if (snapshot.index <= snapshot_.index) return;
  const std::uint64_t drop = std::min<std::uint64_t>(snapshot.index - snapshot_.index, entries_.size());
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_ = snapshot;
}

void Storage::persist(const Ready& ready) {
  if (ready.snapshot) apply_snapshot(*ready.snapshot);
  append(ready.entries_to_persist);
  if (ready.hard_state) hard_state_ = *ready.hard_state;
}

}  // namespace edgeswarm::raft
