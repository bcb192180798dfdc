#include "edgeswarm/raft/ready.hpp"

namespace edgeswarm::raft {

std::string to_string(Role role) {
  switch (role) {
    case Role::Follower:
      return "follower";
    case Role::PreCandidate:
      return "pre_candidate";
    case Role::Candidate:
      return "candidate";
    case Role::Leader:
      return "leader";
  }
  return "Role(" + std::to_string(static_cast<int>(role)) + ")";
}

}  // namespace edgeswarm::raft
