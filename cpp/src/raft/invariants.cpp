#include "edgeswarm/raft/invariants.hpp"

#include <string>
#include <utility>

namespace edgeswarm::raft {

std::string to_string(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::ElectionSafety:
      return "election_safety";
    case ViolationKind::LogMatching:
      return "log_matching";
    case ViolationKind::LeaderCompleteness:
      return "leader_completeness";
    case ViolationKind::StateMachineSafety:
      return "state_machine_safety";
    case ViolationKind::LeaderAppendOnly:
      return "leader_append_only";
    case ViolationKind::TermDecreased:
      return "term_decreased";
    case ViolationKind::DoubleVote:
      return "double_vote";
    case ViolationKind::CommitDecreased:
      return "commit_decreased";
  }
  return "unknown";
}

std::uint64_t InvariantChecker::digest(const Entry& e) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 0x100000001B3ULL; };
  for (int i = 0; i < 8; ++i) mix(static_cast<std::uint8_t>(e.term >> (8 * i)));
  mix(static_cast<std::uint8_t>(e.type));
  for (std::uint8_t b : e.data) mix(b);
  return h;
}

void InvariantChecker::report(ViolationKind kind, core::SimTime time, NodeId node, std::uint64_t term,
                              std::uint64_t index, std::string detail) {
  ++count_;
  if (violations_.size() < max_recorded_) violations_.push_back({kind, node, term, index, time, std::move(detail)});
}

void InvariantChecker::record_committed(core::SimTime time, NodeId node, std::uint64_t index, std::uint64_t term,
                                        std::uint64_t hash, const char* how) {
  if (committed_.size() < index) committed_.resize(index);
  Digest& d = committed_[index - 1];
  if (d.term == 0) {
    d = {term, hash};
  } else if (d.term != term || d.hash != hash) {
    report(ViolationKind::StateMachineSafety, time, node, term, index,
           std::string(how) + " an entry of term " + std::to_string(term) + " where an entry of term " +
               std::to_string(d.term) + " was committed" + (d.term == term ? " (same term, other data)" : ""));
  }
}

void InvariantChecker::record_commit_frontier(std::uint64_t term, std::uint64_t commit) {
  auto [it, fresh] = frontier_.emplace(term, commit);
  if (!fresh) {
    if (it->second >= commit) return;
    it->second = commit;
  } else if (it != frontier_.begin() && std::prev(it)->second >= commit) {
    it->second = std::prev(it)->second;
    return;
  }
  // Keep the map monotone: what was committed by term T is committed by every later term.
  for (++it; it != frontier_.end() && it->second < commit; ++it) it->second = commit;
}

std::uint64_t InvariantChecker::committed_before(std::uint64_t term) const {
  auto it = frontier_.lower_bound(term);
  if (it == frontier_.begin()) return 0;
  return std::prev(it)->second;
}

void InvariantChecker::observe(core::SimTime time, NodeId node, Role role, std::uint64_t term, std::uint64_t commit,
                               const Log& log) {
  ++checks_;
  Track& t = nodes_[node];
  if (term < t.term) {
    report(ViolationKind::TermDecreased, time, node, term, 0,
           "term went from " + std::to_string(t.term) + " to " + std::to_string(term));
  }
  if (commit < t.commit) {
    report(ViolationKind::CommitDecreased, time, node, term, commit,
           "commit index went from " + std::to_string(t.commit) + " to " + std::to_string(commit));
  }
  t.term = term;
  t.commit = commit;

  // Entries up to the commit index are committed: record (and cross-check) them.
  if (commit > t.recorded_commit) {
    const std::uint64_t hi = std::min(commit, log.last_index());
    for (std::uint64_t i = std::max(t.recorded_commit + 1, log.first_index()); i <= hi; ++i) {
      const Entry& e = log.at(i);
      record_committed(time, node, i, e.term, digest(e), "commits");
    }
    t.recorded_commit = commit;
    record_commit_frontier(term, commit);
  }

  if (role != Role::Leader) {
    t.leading = false;
    return;
  }
  const auto [it, fresh] = leaders_.emplace(term, node);
  if (!fresh && it->second != node) {
    report(ViolationKind::ElectionSafety, time, node, term, 0,
           "nodes " + std::to_string(it->second) + " and " + std::to_string(node) + " both lead term " +
               std::to_string(term));
  }
  if (t.leading && t.lead_term == term) {
    const std::optional<std::uint64_t> old_term = log.term(t.lead_last_index);
    const bool compacted = t.lead_last_index < log.snapshot_index();
    if (log.last_index() < t.lead_last_index || (!compacted && old_term != t.lead_last_term)) {
      report(ViolationKind::LeaderAppendOnly, time, node, term, t.lead_last_index,
             "leader's entry " + std::to_string(t.lead_last_index) + " (term " + std::to_string(t.lead_last_term) +
                 ") was removed or overwritten; last index now " + std::to_string(log.last_index()));
    }
  }
  t.leading = true;
  t.lead_term = term;
  t.lead_last_index = log.last_index();
  t.lead_last_term = log.last_term();

  const std::uint64_t c = committed_before(term);
  if (c == 0 || c > committed_.size() || committed_[c - 1].term == 0) return;
  const std::uint64_t want = committed_[c - 1].term;
  if (c > log.last_index()) {
    report(ViolationKind::LeaderCompleteness, time, node, term, c,
           "leader's log ends at " + std::to_string(log.last_index()) + " but entry " + std::to_string(c) + " (term " +
               std::to_string(want) + ") was committed before term " + std::to_string(term));
  } else if (c >= log.snapshot_index() && log.term(c) != want) {
    report(ViolationKind::LeaderCompleteness, time, node, term, c,
           "leader holds term " + std::to_string(log.term(c).value_or(0)) + " at " + std::to_string(c) +
               " but an entry of term " + std::to_string(want) + " was committed there before term " +
               std::to_string(term));
  }
}

void InvariantChecker::on_entries(core::SimTime time, NodeId node, const Log& log, std::uint64_t first,
                                  std::uint64_t last) {
  ++checks_;
  for (std::uint64_t i = std::max(first, log.first_index()); i <= last && i <= log.last_index(); ++i) {
    const Entry& e = log.at(i);
    const std::uint64_t prev = log.term(i - 1).value_or(kUnknown);
    const std::uint64_t h = digest(e);
    auto [it, fresh] = entries_.emplace(EntryKey{i, e.term}, Seen{h, prev});
    if (fresh) continue;
    Seen& s = it->second;
    if (s.hash != h) {
      report(ViolationKind::LogMatching, time, node, e.term, i,
             "two different entries with index " + std::to_string(i) + " and term " + std::to_string(e.term));
    } else if (prev != kUnknown && s.prev_term != kUnknown && prev != s.prev_term) {
      report(ViolationKind::LogMatching, time, node, e.term, i,
             "entry " + std::to_string(i) + " (term " + std::to_string(e.term) + ") follows term " +
                 std::to_string(prev) + " here but term " + std::to_string(s.prev_term) + " elsewhere");
    } else if (s.prev_term == kUnknown) {
      s.prev_term = prev;
    }
  }
}

void InvariantChecker::on_persisted(core::SimTime time, NodeId node, const HardState& hs) {
  ++checks_;
  Track& t = nodes_[node];
  if (hs.term < t.p_term) {
    report(ViolationKind::TermDecreased, time, node, hs.term, 0,
           "persisted term went from " + std::to_string(t.p_term) + " to " + std::to_string(hs.term));
  } else if (hs.term == t.p_term && t.p_vote != kNoNode && hs.vote != kNoNode && hs.vote != t.p_vote) {
    report(ViolationKind::DoubleVote, time, node, hs.term, 0,
           "voted for " + std::to_string(t.p_vote) + " and then " + std::to_string(hs.vote) + " in term " +
               std::to_string(hs.term));
  }
  if (hs.commit < t.p_commit) {
    report(ViolationKind::CommitDecreased, time, node, hs.term, hs.commit,
           "persisted commit index went from " + std::to_string(t.p_commit) + " to " + std::to_string(hs.commit));
  }
  // A vote stays cast for the rest of its term even if a later record leaves it out.
  const std::uint64_t vote = hs.term == t.p_term && hs.vote == kNoNode ? t.p_vote : hs.vote;
  t.p_term = std::max(t.p_term, hs.term);
  t.p_vote = vote;
  t.p_commit = std::max(t.p_commit, hs.commit);
}

void InvariantChecker::on_apply(core::SimTime time, NodeId node, const Entry& entry) {
  ++checks_;
  Track& t = nodes_[node];
  if (t.applied && entry.index != *t.applied + 1) {
    report(ViolationKind::StateMachineSafety, time, node, entry.term, entry.index,
           "applied index " + std::to_string(entry.index) + " right after " + std::to_string(*t.applied));
  }
  t.applied = entry.index;
  if (entry.index > 0) record_committed(time, node, entry.index, entry.term, digest(entry), "applies");
}

void InvariantChecker::on_restore(NodeId node, std::uint64_t index) { nodes_[node].applied = index; }

void InvariantChecker::on_restart(NodeId node) {
  Track& t = nodes_[node];
  t.term = t.p_term;
  t.commit = t.p_commit;
  t.recorded_commit = 0;
  t.leading = false;
  t.applied.reset();
}

}  // namespace edgeswarm::raft
