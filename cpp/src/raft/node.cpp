#include "edgeswarm/raft/node.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::raft {
namespace {

constexpr std::uint64_t kRaftStream = 0x52616674;  // "Raft": keeps election draws apart from other uses

const Config& validated(const Config& config) {
  validate(config);
  return config;
}

bool from_leader(MessageType t) {
  return t == MessageType::Append || t == MessageType::Heartbeat || t == MessageType::Snapshot;
}

}  // namespace

Node::Node(const Config& config, const Storage& storage)
    : config_(validated(config)),
      // The persisted term is mixed in so that a restarted node does not
      // replay the timeouts it drew before the crash.
      rng_(config.seed, core::stream_id(config.id, kRaftStream, storage.hard_state().term)),
      log_(storage.snapshot().index, storage.snapshot().term),
      snapshot_(storage.snapshot()),
      base_conf_(storage.snapshot().conf) {
  std::uint64_t expected = storage.snapshot().index + 1;
  std::uint64_t last_term = storage.snapshot().term;
  for (const Entry& e : storage.entries()) {
    if (e.index != expected || e.term < last_term) {
      core::fail("storage: entry " + std::to_string(e.index) + " (term " + std::to_string(e.term) +
                 ") breaks the log; expected index " + std::to_string(expected) +
                 " with term >= " + std::to_string(last_term));
    }
    ++expected;
    last_term = e.term;
  }
  append_to_log(storage.entries());
  const HardState& hs = storage.hard_state();
  if (hs.commit > log_.last_index()) {
    core::fail("storage: commit " + std::to_string(hs.commit) + " is beyond the last entry " +
               std::to_string(log_.last_index()));
  }
  term_ = hs.term;
  vote_ = hs.vote;
  commit_ = std::max(hs.commit, log_.snapshot_index());
  applied_ = handed_applied_ = log_.snapshot_index();
  stable_ = log_.last_index();
  persisted_hs_ = hs;
  become_follower(term_, kNoNode);
  last_soft_ = {leader_, role_};
}

// ---------------------------------------------------------------- helpers

bool Node::is_voter(NodeId id) const {
  const auto& v = conf().voters;
  return std::binary_search(v.begin(), v.end(), id);
}

std::size_t Node::quorum() const { return conf().voters.size() / 2 + 1; }

bool Node::committed_in_term() const { return log_.term(commit_) == term_; }

const Progress* Node::progress(NodeId peer) const {
  const auto it = progress_.find(peer);
  return it == progress_.end() ? nullptr : &it->second;
}

void Node::send(Message m) {
  m.from = config_.id;
  if (m.type != MessageType::PreVote && m.type != MessageType::PreVoteResponse) m.term = term_;
  msgs_.push_back(std::move(m));
}

// ---------------------------------------------------------------- roles

void Node::reset(std::uint64_t term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  randomized_timeout_ = config_.election_min_ticks +
                        static_cast<std::uint32_t>(rng_.below(config_.election_max_ticks - config_.election_min_ticks));
  votes_.clear();
  progress_.clear();
  transferee_ = kNoNode;
  transfer_elapsed_ = 0;
  pending_broadcast_ = false;
  pending_read_round_ = false;
  read_seq_ = 0;
  pending_reads_.clear();
  reads_before_commit_.clear();
}

void Node::become_follower(std::uint64_t term, NodeId leader) {
  reset(term);
  leader_ = leader;
  role_ = Role::Follower;
}

void Node::become_pre_candidate() {
  // Keeps term and vote: a pre-election must not disturb anyone.
  votes_.clear();
  leader_ = kNoNode;
  role_ = Role::PreCandidate;
  election_elapsed_ = 0;
  randomized_timeout_ = config_.election_min_ticks +
                        static_cast<std::uint32_t>(rng_.below(config_.election_max_ticks - config_.election_min_ticks));
}

void Node::become_candidate() {
  reset(term_ + 1);
  vote_ = config_.id;
  role_ = Role::Candidate;
}

void Node::become_leader() {
  reset(term_);
  leader_ = config_.id;
  role_ = Role::Leader;
  on_conf_changed();
  // The no-op lets the leader commit an entry of its own term, which is what
  // makes earlier entries committed (Figure 8) and ReadIndex safe.
  append_as_leader(Entry{});
}

void Node::campaign(Campaign kind) {
  const bool pre = kind == Campaign::PreElection;
  if (pre) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
  std::size_t rejections = 0;
  if (poll(config_.id, true, &rejections)) {
    if (pre) {
      campaign(Campaign::Election);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId v : conf().voters) {
    if (v == config_.id) continue;
    Message m;
    m.type = pre ? MessageType::PreVote : MessageType::Vote;
    m.to = v;
    m.term = pre ? term_ + 1 : term_;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.transfer = kind == Campaign::Transfer;
    send(std::move(m));
  }
}

bool Node::poll(NodeId from, bool granted, std::size_t* rejections) {
  if (is_voter(from)) votes_.emplace(from, granted);
  std::size_t yes = 0;
  *rejections = 0;
  for (const auto& [id, vote] : votes_) (vote ? yes : *rejections) += 1;
  return yes >= quorum();
}

// ---------------------------------------------------------------- time

void Node::tick() {
  if (role_ != Role::Leader) {
    ++election_elapsed_;
    if (is_voter(config_.id) && election_elapsed_ >= randomized_timeout_) {
      campaign(config_.pre_vote ? Campaign::PreElection : Campaign::Election);
    }
    return;
  }
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  for (auto& [id, pr] : progress_) {
    // A lost snapshot (or its lost acknowledgement) must not stall the follower forever.
    if (pr.state == ProgressState::Snapshot && ++pr.snapshot_ticks >= config_.election_min_ticks) pr.become_probe();
  }
  if (election_elapsed_ >= config_.election_min_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      std::size_t active = is_voter(config_.id) ? 1 : 0;
      for (auto& [id, pr] : progress_) {
        if (pr.recent_active && is_voter(id)) ++active;
        pr.recent_active = false;
      }
      if (active < quorum()) {
        become_follower(term_, kNoNode);
        return;
      }
    }
  }
  if (transferee_ != kNoNode && ++transfer_elapsed_ >= config_.election_min_ticks) {
    transferee_ = kNoNode;  // the transfer took too long: give up
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

// ---------------------------------------------------------------- messages

void Node::step(const Message& m) {
  if (m.to != config_.id || m.from == config_.id) return;
  if (m.term > term_) {
    if (m.type == MessageType::Vote || m.type == MessageType::PreVote) {
      // Leader lease: while this node hears from a leader, a candidate cannot
      // depose it (a removed or partitioned node rejoining with a high term).
      const bool in_lease =
          config_.check_quorum && leader_ != kNoNode && election_elapsed_ < config_.election_min_ticks;
      if (in_lease && !m.transfer) return;
    }
    if (m.type == MessageType::PreVote) {
      // A pre-vote does not change anyone's term.
    } else if (m.type == MessageType::PreVoteResponse && !m.reject) {
      // A granted pre-vote carries the term we asked for; our term stays.
    } else {
      become_follower(m.term, from_leader(m.type) ? m.from : kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::Append || m.type == MessageType::Heartbeat)) {
      // Tell a stale leader about the newer term so it steps down; without
      // this, a node that lost an election by PreVote could be stuck.
      Message r;
      r.type = MessageType::AppendResponse;
      r.to = m.from;
      send(std::move(r));
    } else if (m.type == MessageType::PreVote) {
      Message r;
      r.type = MessageType::PreVoteResponse;
      r.to = m.from;
      r.term = term_;
      r.reject = true;
      send(std::move(r));
    }
    return;
  }

  if (m.type == MessageType::Vote || m.type == MessageType::PreVote) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case Role::Leader:
      step_leader(m);
      break;
    case Role::PreCandidate:
    case Role::Candidate:
      step_candidate(m);
      break;
    case Role::Follower:
      step_follower(m);
      break;
  }
}

void Node::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::PreVote;
  const bool can_vote = vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) || (pre && m.term > term_);
  const bool up_to_date =
      m.log_term > log_.last_term() || (m.log_term == log_.last_term() && m.index >= log_.last_index());
  Message r;
  r.type = pre ? MessageType::PreVoteResponse : MessageType::VoteResponse;
  r.to = m.from;
  if (can_vote && up_to_date) {
    r.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Node::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::Append:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_append(m);
      break;
    case MessageType::Heartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::Snapshot:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_snapshot(m);
      break;
    case MessageType::TimeoutNow:
      if (is_voter(config_.id)) campaign(Campaign::Transfer);
      break;
    default:
      break;
  }
}

void Node::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::Append:
    case MessageType::Heartbeat:
    case MessageType::Snapshot:
      become_follower(term_, m.from);  // someone won this term
      step_follower(m);
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: {
      const bool pre = role_ == Role::PreCandidate;
      if (pre != (m.type == MessageType::PreVoteResponse)) break;
      if (pre && !m.reject && m.term != term_ + 1) break;
      std::size_t rejections = 0;
      if (poll(m.from, !m.reject, &rejections)) {
        if (pre) {
          campaign(Campaign::Election);
        } else {
          become_leader();
        }
      } else if (rejections >= conf().voters.size() - quorum() + 1) {
        become_follower(term_, kNoNode);
      }
      break;
    }
    default:
      break;
  }
}

void Node::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::AppendResponse:
      handle_append_response(m);
      break;
    case MessageType::HeartbeatResponse:
      handle_heartbeat_response(m);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- follower side

void Node::handle_append(const Message& m) {
  Message r;
  r.type = MessageType::AppendResponse;
  r.to = m.from;
  if (m.index < commit_) {
    r.index = commit_;  // everything up to commit already matches the leader
    send(std::move(r));
    return;
  }
  if (log_.matches(m.index, m.log_term)) {
    const std::uint64_t last_new = m.index + m.entries.size();
    const std::uint64_t conflict = log_.find_conflict(m.entries);
    if (conflict != 0) {
      if (conflict <= commit_) {
        throw std::logic_error("raft: leader tried to overwrite committed entry " + std::to_string(conflict));
      }
      const auto skip = static_cast<std::ptrdiff_t>(conflict - m.entries.front().index);
      append_to_log(std::vector<Entry>(m.entries.begin() + skip, m.entries.end()));
    }
    commit_to(std::min(m.commit, last_new));
    r.index = last_new;
  } else {
    r.reject = true;
    r.index = m.index;
    if (m.index > log_.last_index()) {
      r.conflict_term = 0;
      r.reject_hint = log_.last_index();
    } else {
      r.conflict_term = *log_.term(m.index);
      r.reject_hint = log_.first_index_of_term_run(m.index, commit_ + 1);
    }
  }
  send(std::move(r));
}

void Node::handle_heartbeat(const Message& m) {
  commit_to(std::min(m.commit, log_.last_index()));
  Message r;
  r.type = MessageType::HeartbeatResponse;
  r.to = m.from;
  r.read_seq = m.read_seq;
  send(std::move(r));
}

void Node::handle_snapshot(const Message& m) {
  const Snapshot& s = m.snapshot;
  Message r;
  r.type = MessageType::AppendResponse;
  r.to = m.from;
  if (s.index <= commit_) {
    r.index = commit_;
  } else if (log_.matches(s.index, s.term)) {
    commit_to(s.index);  // our log already holds it: just catch up the commit
    r.index = commit_;
  } else {
    log_.reset(s.index, s.term);
    snapshot_ = s;
    base_conf_ = s.conf;
    conf_.clear();
    commit_ = s.index;
    stable_ = s.index;
    handed_applied_ = s.index;
    pending_snapshot_ = s;
    on_conf_changed();
    r.index = s.index;
  }
  send(std::move(r));
}

void Node::append_to_log(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const std::uint64_t first = entries.front().index;
  bool changed = false;
  while (!conf_.empty() && conf_.back().first >= first) {
    conf_.pop_back();  // the change was truncated away: the previous voters apply again
    changed = true;
  }
  stable_ = std::min(stable_, first - 1);
  log_.append(entries);
  for (const Entry& e : entries) {
    if (e.type != EntryType::ConfChange) continue;
    conf_.emplace_back(e.index, apply(conf(), decode_conf_change(e.data)));
    changed = true;
  }
  if (changed) on_conf_changed();
}

void Node::commit_to(std::uint64_t index) {
  if (index <= commit_) return;
  commit_ = index;
  if (role_ != Role::Leader) return;
  if (!reads_before_commit_.empty() && committed_in_term()) {
    for (std::uint64_t context : reads_before_commit_) register_read(context);
    reads_before_commit_.clear();
  }
  const bool removed = !is_voter(config_.id);
  if (removed && (conf_.empty() || conf_.back().first <= commit_)) become_follower(term_, kNoNode);
}

// ---------------------------------------------------------------- leader side

void Node::on_conf_changed() {
  if (role_ != Role::Leader) return;
  const auto& voters = conf().voters;
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = std::binary_search(voters.begin(), voters.end(), it->first) ? std::next(it) : progress_.erase(it);
  }
  for (NodeId v : voters) {
    if (v == config_.id || progress_.count(v)) continue;
    Progress pr;
    pr.next = log_.last_index() + 1;
    pr.recent_active = true;  // a newcomer gets one CheckQuorum round to answer
    progress_.emplace(v, pr);
  }
  if (transferee_ != kNoNode && !is_voter(transferee_)) transferee_ = kNoNode;
  pending_broadcast_ = true;
}

void Node::append_as_leader(Entry entry) {
  entry.term = term_;
  entry.index = log_.last_index() + 1;
  append_to_log({std::move(entry)});
  maybe_commit();
  pending_broadcast_ = true;
}

bool Node::maybe_commit() {
  if (role_ != Role::Leader) return false;
  const auto& voters = conf().voters;
  if (voters.empty()) return false;
  std::vector<std::uint64_t> match;
  match.reserve(voters.size());
  for (NodeId v : voters) {
    if (v == config_.id) {
      match.push_back(log_.last_index());
    } else {
      const auto it = progress_.find(v);
      match.push_back(it == progress_.end() ? 0 : it->second.match);
    }
  }
  std::sort(match.begin(), match.end(), std::greater<>());
  const std::uint64_t index = match[quorum() - 1];
  // Figure 8: only an entry of the current term is committed by counting replicas.
  if (index > commit_ && log_.term(index) == term_) {
    commit_to(index);
    return true;
  }
  return false;
}

bool Node::send_append(NodeId to, bool send_if_empty) {
  Progress& pr = progress_.at(to);
  if (pr.paused(config_.max_inflight_msgs)) return false;
  const std::uint64_t prev = pr.next - 1;
  const auto prev_term = log_.term(prev);
  if (!prev_term) {
    Message m;
    m.type = MessageType::Snapshot;
    m.to = to;
    m.snapshot = snapshot_;
    pr.become_snapshot(snapshot_.index);
    send(std::move(m));
    return true;
  }
  std::vector<Entry> entries = log_.slice(pr.next, log_.last_index() + 1, config_.max_entries_per_msg);
  if (entries.empty() && !send_if_empty) return false;
  const std::size_t count = entries.size();
  Message m;
  m.type = MessageType::Append;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.entries = std::move(entries);
  m.commit = commit_;
  pr.sent(prev + count, count);
  send(std::move(m));
  return true;
}

void Node::broadcast_append() {
  for (auto& [to, pr] : progress_) {
    if (!send_append(to, true)) continue;
    while (pr.state == ProgressState::Replicate && send_append(to, false)) {
    }
  }
}

void Node::send_heartbeat(NodeId to) {
  const Progress& pr = progress_.at(to);
  Message m;
  m.type = MessageType::Heartbeat;
  m.to = to;
  // A follower may not hold entries beyond its match: never let it commit them.
  m.commit = std::min(pr.match, commit_);
  m.read_seq = read_seq_;
  send(std::move(m));
}

void Node::broadcast_heartbeat() {
  for (const auto& [to, pr] : progress_) send_heartbeat(to);
}

void Node::handle_append_response(const Message& m) {
  const auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject) {
    std::uint64_t hint_next = m.reject_hint + 1;
    if (m.conflict_term != 0) {
      // Skip the follower's whole conflicting term in one step; if we hold
      // that term too, resume right after our last entry of it.
      const auto ours = log_.last_index_of_term(m.conflict_term);
      hint_next = ours ? *ours + 1 : m.reject_hint;
    }
    if (pr.decrease(m.index, hint_next)) send_append(m.from, true);
    return;
  }
  if (!pr.update(m.index)) return;
  if (pr.state == ProgressState::Probe || (pr.state == ProgressState::Snapshot && pr.match >= pr.pending_snapshot)) {
    pr.become_replicate();
  }
  if (maybe_commit()) {
    if (role_ != Role::Leader) return;  // it committed its own removal and stepped down
    broadcast_append();
  } else {
    while (send_append(m.from, false)) {
      if (pr.state != ProgressState::Replicate) break;
    }
  }
  if (m.from == transferee_ && pr.match == log_.last_index()) {
    Message t;
    t.type = MessageType::TimeoutNow;
    t.to = m.from;
    send(std::move(t));
  }
}

void Node::handle_heartbeat_response(const Message& m) {
  const auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  // The response proves the link works: if the pipe is full, free a slot so
  // that replication cannot stall on Appends that were lost.
  if (pr.state == ProgressState::Replicate && pr.inflight.size() >= config_.max_inflight_msgs) pr.inflight.pop_front();
  if (pr.match < log_.last_index()) send_append(m.from, true);
  if (m.read_seq > pr.read_ack_seq) {
    pr.read_ack_seq = m.read_seq;
    release_reads();
  }
}

void Node::register_read(std::uint64_t context) {
  if (is_voter(config_.id) && quorum() == 1) {
    confirmed_reads_.push_back({commit_, context});
    return;
  }
  pending_reads_.push_back({context, commit_, ++read_seq_});
  pending_read_round_ = true;
}

void Node::release_reads() {
  while (!pending_reads_.empty()) {
    const PendingRead& r = pending_reads_.front();
    std::size_t acks = is_voter(config_.id) ? 1 : 0;
    for (const auto& [id, pr] : progress_) acks += pr.read_ack_seq >= r.seq;
    if (acks < quorum()) break;
    confirmed_reads_.push_back({r.index, r.context});
    pending_reads_.pop_front();
  }
}

// ---------------------------------------------------------------- requests

ProposeResult Node::propose(std::vector<std::uint8_t> data) {
  if (role_ != Role::Leader) return ProposeResult::NotLeader;
  if (transferee_ != kNoNode || !is_voter(config_.id)) return ProposeResult::Dropped;
  Entry e;
  e.data = std::move(data);
  append_as_leader(std::move(e));
  return ProposeResult::Ok;
}

ProposeResult Node::propose_conf_change(const ConfChange& change) {
  core::require(change.node != kNoNode, "node", "0", "ids >= 1");
  if (role_ != Role::Leader) return ProposeResult::NotLeader;
  if (transferee_ != kNoNode || !committed_in_term()) return ProposeResult::Dropped;
  if (!conf_.empty() && conf_.back().first > commit_) return ProposeResult::Dropped;
  const ConfState next = apply(conf(), change);
  if (next == conf() || next.voters.empty()) return ProposeResult::Dropped;
  Entry e;
  e.type = EntryType::ConfChange;
  e.data = encode(change);
  append_as_leader(std::move(e));
  return ProposeResult::Ok;
}

ProposeResult Node::read_index(std::uint64_t context) {
  if (role_ != Role::Leader) return ProposeResult::NotLeader;
  if (!committed_in_term()) {
    // Until its no-op commits, the leader does not know the commit index.
    reads_before_commit_.push_back(context);
  } else {
    register_read(context);
  }
  return ProposeResult::Ok;
}

ProposeResult Node::transfer_leadership(NodeId target) {
  if (role_ != Role::Leader) return ProposeResult::NotLeader;
  if (target == config_.id) return ProposeResult::Ok;
  if (!is_voter(target)) return ProposeResult::Dropped;
  if (transferee_ == target) return ProposeResult::Ok;
  transferee_ = target;
  transfer_elapsed_ = 0;
  const Progress& pr = progress_.at(target);
  if (pr.match == log_.last_index()) {
    Message t;
    t.type = MessageType::TimeoutNow;
    t.to = target;
    send(std::move(t));
  } else {
    send_append(target, true);
  }
  return ProposeResult::Ok;
}

Snapshot Node::compact(std::uint64_t index, std::vector<std::uint8_t> data) {
  core::require(index > log_.snapshot_index() && index <= applied_, "index", std::to_string(index),
                "(" + std::to_string(log_.snapshot_index()) + ", " + std::to_string(applied_) + "] (applied index)");
  ConfState at = base_conf_;
  for (const auto& [i, c] : conf_) {
    if (i <= index) at = c;
  }
  Snapshot s;
  s.index = index;
  s.term = *log_.term(index);
  s.conf = at;
  s.data = std::move(data);
  log_.compact(index);
  base_conf_ = at;
  conf_.erase(std::remove_if(conf_.begin(), conf_.end(), [&](const auto& c) { return c.first <= index; }), conf_.end());
  snapshot_ = s;
  return s;
}

// ---------------------------------------------------------------- ready

bool Node::has_ready() const {
  return pending_broadcast_ || pending_read_round_ || !msgs_.empty() || hard_state() != persisted_hs_ ||
         pending_snapshot_.has_value() || log_.last_index() > stable_ || commit_ > handed_applied_ ||
         !confirmed_reads_.empty() || SoftState{leader_, role_} != last_soft_;
}

Ready Node::ready() {
  // Proposals and reads since the last Ready go out together: that is the batching.
  if (pending_broadcast_) {
    pending_broadcast_ = false;
    if (role_ == Role::Leader) broadcast_append();
  }
  if (pending_read_round_) {
    pending_read_round_ = false;
    if (role_ == Role::Leader) broadcast_heartbeat();
  }
  Ready rd;
  rd.soft_state = {leader_, role_};
  last_soft_ = rd.soft_state;
  if (hard_state() != persisted_hs_) rd.hard_state = hard_state();
  if (pending_snapshot_) {
    rd.snapshot = std::move(*pending_snapshot_);
    pending_snapshot_.reset();
  }
  rd.entries_to_persist = log_.slice(stable_ + 1, log_.last_index() + 1);
  rd.messages = std::move(msgs_);
  msgs_.clear();
  rd.committed_entries = log_.slice(handed_applied_ + 1, commit_ + 1);
  if (!rd.committed_entries.empty()) handed_applied_ = rd.committed_entries.back().index;
  // A confirmed read's index is <= commit, so it is applied once this Ready's
  // committed entries are.
  rd.read_states.assign(confirmed_reads_.begin(), confirmed_reads_.end());
  confirmed_reads_.clear();
  return rd;
}

void Node::advance(const Ready& rd) {
  if (rd.hard_state) persisted_hs_ = *rd.hard_state;
  if (rd.snapshot) {
    stable_ = std::max(stable_, rd.snapshot->index);
    applied_ = std::max(applied_, rd.snapshot->index);
  }
  if (!rd.entries_to_persist.empty()) {
    const Entry& last = rd.entries_to_persist.back();
    if (log_.matches(last.index, last.term)) stable_ = std::max(stable_, last.index);
  }
  if (!rd.committed_entries.empty()) applied_ = std::max(applied_, rd.committed_entries.back().index);
}

}  // namespace edgeswarm::raft
