#pragma once
// What the cluster harness records about client operations, in the shape a
// linearizability checker reads: who called what, when it was called and
// answered (simulated microseconds), and how it ended.

#include <cstdint>
#include <optional>
#include <string>

#include "edgeswarm/core/event_queue.hpp"
#include "edgeswarm/raft/kv_store.hpp"

namespace edgeswarm::raft {

/// How a client operation ended.
enum class OpStatus : std::uint8_t {
  Ok = 0,       ///< applied exactly once; answered with `output`
  Failed = 1,   ///< definitely never applied (no leader ever accepted it)
  Unknown = 2,  ///< may or may not have been applied (timed out after a leader accepted it, or still pending)
};

/// The status's name: "ok", "failed" or "unknown".
const char* to_string(OpStatus status);

/// One client operation as the history records it.
struct HistoryEntry {
  std::uint64_t client = 0;  ///< client id (1, 2, ...)
  KvOp kind = KvOp::Put;
  std::string key;
  std::optional<std::string> value;     ///< Put/Append/Emergency argument; none for Get/Delete
  core::SimTime call = 0;               ///< when the client invoked it
  std::optional<core::SimTime> ret;     ///< when the answer arrived (Ok only)
  OpStatus status = OpStatus::Unknown;  ///< Unknown while pending
  std::optional<std::string> output;    ///< Ok Get: the value read, none when absent; Emergency: position
  bool pending = true;                  ///< still waiting for an answer
};

}  // namespace edgeswarm::raft
