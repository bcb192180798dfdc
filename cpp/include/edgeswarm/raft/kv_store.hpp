#pragma once
// The replicated state machine of the cluster harness: a string key-value
// store plus an append-only emergency log, driven by commands carried as log
// entry payloads. Client sessions make retries safe: each client numbers its
// commands 1, 2, ... and has at most one outstanding, so the store keeps per
// client the last sequence applied and its result; a command seen again
// (a retry that reached the log twice) is not re-executed and returns the
// first result; an older sequence is ignored. Sessions are part of the
// snapshot, so dedup survives compaction and restarts.
//
// Payloads that are not commands (any entry not starting with kCommandMagic,
// or not parsing) are opaque to the store: it skips them, the same way on
// every node, so raw proposals and KV commands can share a log.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeswarm::raft {

/// First byte of every encoded command.
inline constexpr std::uint8_t kCommandMagic = 0xE5;

/// What a command does.
enum class KvOp : std::uint8_t {
  Put = 0,        ///< key := value
  Get = 1,        ///< read key (logged like a write, so reads are linearizable)
  Append = 2,     ///< key := key + value (absent key counts as "")
  Delete = 3,     ///< remove key
  Emergency = 4,  ///< append (key, value) to the emergency log
};

/// The op's name: "put", "get", "append", "delete" or "emergency".
const char* to_string(KvOp op);

/// One client command.
struct KvCommand {
  KvOp op = KvOp::Put;
  std::uint64_t client = 0;  ///< client id, >= 1
  std::uint64_t seq = 0;     ///< client's sequence number, >= 1
  std::string key;
  std::string value;  ///< Put/Append/Emergency only
};

/// Payload bytes: magic, op, varint client, varint seq, key, value (length-prefixed).
std::vector<std::uint8_t> encode(const KvCommand& command);
/// The command in `payload`, or nothing when it is not one.
std::optional<KvCommand> decode_kv_command(const std::vector<std::uint8_t>& payload);

/// What a command returned.
struct KvResult {
  bool found = false;          ///< Get/Delete: the key existed; Put/Append/Emergency: true
  std::string value;           ///< Get: the value read (empty when absent)
  std::uint64_t position = 0;  ///< Emergency: 1-based position in the emergency log

  friend bool operator==(const KvResult& a, const KvResult& b) {
    return a.found == b.found && a.value == b.value && a.position == b.position;
  }
};

/// One emergency log record.
struct EmergencyRecord {
  std::uint64_t index = 0;  ///< Raft log index it was committed at
  std::uint64_t client = 0;
  std::string key;
  std::string value;

  friend bool operator==(const EmergencyRecord& a, const EmergencyRecord& b) {
    return a.index == b.index && a.client == b.client && a.key == b.key && a.value == b.value;
  }
};

/// The outcome of applying one command entry.
struct KvApplied {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  KvResult result;
  bool duplicate = false;  ///< a retry: not executed again, first result returned
  bool stale = false;      ///< older than the client's last sequence: ignored, result empty
};

/// The key-value store with its emergency log and client sessions.
class KvStore {
 public:
  /// Applies the entry at `index` with `payload`; returns the outcome for a
  /// command, nothing for an opaque payload. Entries must come in index order.
  std::optional<KvApplied> apply(std::uint64_t index, const std::vector<std::uint8_t>& payload);

  /// Value of `key`, or nothing.
  std::optional<std::string> get(const std::string& key) const;
  /// All keys and values, in key order.
  const std::map<std::string, std::string>& data() const { return data_; }
  /// The emergency log, in commit order.
  const std::vector<EmergencyRecord>& emergencies() const { return emergencies_; }
  /// Index of the last entry applied (or restored from a snapshot).
  std::uint64_t applied_index() const { return applied_; }
  /// Commands executed (duplicates and stale retries excluded).
  std::uint64_t executed() const { return executed_; }

  /// The whole state (data, emergency log, sessions, applied index) as snapshot bytes.
  std::vector<std::uint8_t> serialize() const;
  /// Rebuilds a store from serialize()'s output; empty bytes give an empty
  /// store. Throws std::invalid_argument ("data: ...") when malformed.
  static KvStore deserialize(const std::vector<std::uint8_t>& bytes);

  friend bool operator==(const KvStore& a, const KvStore& b);

 private:
  struct Session {
    std::uint64_t seq = 0;
    KvResult result;
  };
  KvResult execute(std::uint64_t index, const KvCommand& c);

  std::map<std::string, std::string> data_;
  std::vector<EmergencyRecord> emergencies_;
  std::map<std::uint64_t, Session> sessions_;
  std::uint64_t applied_ = 0;
  std::uint64_t executed_ = 0;
};

}  // namespace edgeswarm::raft
