#include "edgeswarm/raft/message.hpp"

namespace edgeswarm::raft {

std::string to_string(MessageType type) {
  switch (type) {
    case MessageType::Append:
      return "Append";
    case MessageType::AppendResponse:
      return "AppendResponse";
    case MessageType::Vote:
      return "Vote";
    case MessageType::VoteResponse:
      return "VoteResponse";
    case MessageType::PreVote:
      return "PreVote";
    case MessageType::PreVoteResponse:
      return "PreVoteResponse";
    case MessageType::Heartbeat:
      return "Heartbeat";
    case MessageType::HeartbeatResponse:
      return "HeartbeatResponse";
    case MessageType::Snapshot:
      return "Snapshot";
    case MessageType::TimeoutNow:
      return "TimeoutNow";
  }
  return "MessageType(" + std::to_string(static_cast<int>(type)) + ")";
}

std::size_t varint_bytes(std::uint64_t value) {
  std::size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

std::size_t message_bytes(const Message& m) {
  std::size_t n = 1 + 1;  // type, flags
  for (std::uint64_t v : {m.from, m.to, m.term, m.log_term, m.index, m.commit, m.reject_hint, m.conflict_term,
                          m.read_seq, static_cast<std::uint64_t>(m.entries.size())}) {
    n += varint_bytes(v);
  }
  for (const Entry& e : m.entries) n += varint_bytes(e.term) + 1 + varint_bytes(e.data.size()) + e.data.size();
  if (m.type == MessageType::Snapshot) {
    const Snapshot& s = m.snapshot;
    n += varint_bytes(s.index) + varint_bytes(s.term) + varint_bytes(s.conf.voters.size());
    for (NodeId v : s.conf.voters) n += varint_bytes(v);
    n += varint_bytes(s.data.size()) + s.data.size();
  }
  return n;
}

}  // namespace edgeswarm::raft
