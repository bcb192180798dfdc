#pragma once
// One node's simulated persistent storage: a key -> bytes map where writes
// become durable only when the simulator says the fsync finished. The disk
// itself has no clock: Network::write schedules the durable notice and calls
// make_durable when it fires. Writes complete in the order they were issued
// (like appends to a write-ahead log followed by fsync), so making write k
// durable also makes every earlier write durable. A crash loses every write
// not yet durable; after a restart the node sees only durable data.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace edgeswarm::net {

/// Bytes as stored on disk and carried in messages.
using Bytes = std::vector<std::uint8_t>;

/// A simulated disk with pending (volatile) and durable writes.
class Disk {
 public:
  /// Queues a write of `value` under `key`; returns its write id (1, 2, ... over the disk's life).
  std::uint64_t write(std::string key, Bytes value);
  /// Queues removal of `key`; returns its write id.
  std::uint64_t remove(std::string key);
  /// Applies every pending write with id <= `id` to durable storage; returns how many.
  std::size_t make_durable(std::uint64_t id);
  /// Loses every pending write (the node crashed).
  void crash();

  /// The newest value of `key` as the running node sees it (pending writes
  /// included), or nullptr when absent or removed.
  const Bytes* read(const std::string& key) const;
  /// The durable value of `key`, or nullptr.
  const Bytes* read_durable(const std::string& key) const;
  /// All durable data, in key order: what a restarted node recovers from.
  const std::map<std::string, Bytes>& durable() const { return durable_; }
  /// Number of writes not yet durable.
  std::size_t pending() const { return pending_.size(); }
  /// Id of the newest durable write (0 if none).
  std::uint64_t durable_id() const { return durable_id_; }

 private:
  struct Pending {
    std::uint64_t id;
    std::string key;
    Bytes value;
    bool remove;
  };
  std::map<std::string, Bytes> durable_;
  std::deque<Pending> pending_;
  std::uint64_t last_id_ = 0;
  std::uint64_t durable_id_ = 0;
};

}  // namespace edgeswarm::net
