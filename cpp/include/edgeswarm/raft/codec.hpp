#pragma once
// Byte encodings the cluster harness puts on the simulated wire and disk:
// messages in exactly the format message_bytes() counts (so the network's byte
// counters equal message_bytes), and the durable part of a Ready (snapshot,
// entries, hard state) as one write-ahead record. Decoding is strict: a
// malformed buffer throws std::invalid_argument ("bytes: ...").

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeswarm/raft/message.hpp"
#include "edgeswarm/raft/ready.hpp"
#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Appends little-endian base-128 varints, bytes and strings to a buffer.
class ByteWriter {
 public:
  /// Appends `v` as an unsigned LEB128 varint.
  void varint(std::uint64_t v);
  /// Appends one byte.
  void byte(std::uint8_t b) { out_.push_back(b); }
  /// Appends a varint length, then the bytes.
  void blob(const std::uint8_t* data, std::size_t size);
  void blob(const std::vector<std::uint8_t>& v) { blob(v.data(), v.size()); }
  void blob(const std::string& s) { blob(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }
  /// The buffer written so far (moved out).
  std::vector<std::uint8_t> take() { return std::move(out_); }
  /// Reserves capacity for `n` more bytes.
  void reserve(std::size_t n) { out_.reserve(out_.size() + n); }

 private:
  std::vector<std::uint8_t> out_;
};

/// Reads what ByteWriter wrote; throws std::invalid_argument ("bytes: ...") past the end.
class ByteReader {
 public:
  /// Reads from [data, data + size); the buffer must outlive the reader.
  ByteReader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  explicit ByteReader(const std::vector<std::uint8_t>& v) : ByteReader(v.data(), v.size()) {}

  /// Next varint.
  std::uint64_t varint();
  /// Next byte.
  std::uint8_t byte();
  /// Next length-prefixed byte string.
  std::vector<std::uint8_t> blob();
  /// Next length-prefixed string.
  std::string text();
  /// True when every byte was read.
  bool done() const { return p_ == end_; }

 private:
  std::size_t length();
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

/// The message in the layout message_bytes() describes; size == message_bytes(m).
std::vector<std::uint8_t> encode_message(const Message& m);
/// Parses encode_message's output.
Message decode_message(const std::vector<std::uint8_t>& bytes);

/// Snapshot: index, term, voters, data.
void write_snapshot(ByteWriter& w, const Snapshot& s);
/// Reads write_snapshot's output.
Snapshot read_snapshot(ByteReader& r);

/// The durable part of `ready` (snapshot, entries to persist, hard state) as one record.
std::vector<std::uint8_t> encode_persisted(const Ready& ready);
/// True when `ready` has anything to persist.
bool needs_persist(const Ready& ready);

}  // namespace edgeswarm::raft
