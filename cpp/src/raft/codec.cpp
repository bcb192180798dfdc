#include "edgeswarm/raft/codec.hpp"

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::raft {
namespace {

[[noreturn]] void truncated() { core::fail("bytes: truncated or malformed record"); }

void write_entry_body(ByteWriter& w, const Entry& e) {
  w.varint(e.term);
  w.byte(static_cast<std::uint8_t>(e.type));
  w.blob(e.data);
}

}  // namespace

void ByteWriter::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(v));
}

void ByteWriter::blob(const std::uint8_t* data, std::size_t size) {
  varint(size);
  out_.insert(out_.end(), data, data + size);
}

std::uint64_t ByteReader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) truncated();
    const std::uint8_t b = *p_++;
    v |= std::uint64_t{b & 0x7Fu} << shift;
    if (!(b & 0x80)) return v;
  }
  truncated();
}

std::uint8_t ByteReader::byte() {
  if (p_ == end_) truncated();
  return *p_++;
}

std::size_t ByteReader::length() {
  const std::uint64_t n = varint();
  if (n > static_cast<std::uint64_t>(end_ - p_)) truncated();
  return static_cast<std::size_t>(n);
}

std::vector<std::uint8_t> ByteReader::blob() {
  const std::size_t n = length();
  std::vector<std::uint8_t> out(p_, p_ + n);
  p_ += n;
  return out;
}

std::string ByteReader::text() {
  const std::size_t n = length();
  std::string out(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return out;
}

void write_snapshot(ByteWriter& w, const Snapshot& s) {
  w.varint(s.index);
  w.varint(s.term);
  w.varint(s.conf.voters.size());
  for (NodeId v : s.conf.voters) w.varint(v);
  w.blob(s.data);
}

Snapshot read_snapshot(ByteReader& r) {
  Snapshot s;
  s.index = r.varint();
  s.term = r.varint();
  const std::uint64_t voters = r.varint();
  for (std::uint64_t i = 0; i < voters; ++i) s.conf.voters.push_back(r.varint());
  s.data = r.blob();
  return s;
}

std::vector<std::uint8_t> encode_message(const Message& m) {
  ByteWriter w;
  w.reserve(message_bytes(m));
  w.byte(static_cast<std::uint8_t>(m.type));
  for (std::uint64_t v : {m.from, m.to, m.term, m.log_term, m.index, m.commit, m.reject_hint, m.conflict_term,
                          m.read_seq, static_cast<std::uint64_t>(m.entries.size())}) {
    w.varint(v);
  }
  w.byte(static_cast<std::uint8_t>((m.reject ? 1 : 0) | (m.transfer ? 2 : 0)));
  for (const Entry& e : m.entries) write_entry_body(w, e);
  if (m.type == MessageType::Snapshot) write_snapshot(w, m.snapshot);
  return w.take();
}

Message decode_message(const std::vector<std::uint8_t>& bytes) {
  ByteReader r(bytes);
  Message m;
  const std::uint8_t type = r.byte();
  if (type > static_cast<std::uint8_t>(MessageType::TimeoutNow)) truncated();
  m.type = static_cast<MessageType>(type);
  m.from = r.varint();
  m.to = r.varint();
  m.term = r.varint();
  m.log_term = r.varint();
  m.index = r.varint();
  m.commit = r.varint();
  m.reject_hint = r.varint();
  m.conflict_term = r.varint();
  m.read_seq = r.varint();
  const std::uint64_t count = r.varint();
  const std::uint8_t flags = r.byte();
  m.reject = flags & 1;
  m.transfer = flags & 2;
  if (count > bytes.size()) truncated();  // each entry takes at least 3 bytes
  m.entries.resize(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    Entry& e = m.entries[i];
    e.index = m.index + 1 + i;
    e.term = r.varint();
    const std::uint8_t t = r.byte();
    if (t > static_cast<std::uint8_t>(EntryType::ConfChange)) truncated();
    e.type = static_cast<EntryType>(t);
    e.data = r.blob();
  }
  if (m.type == MessageType::Snapshot) m.snapshot = read_snapshot(r);
  if (!r.done()) truncated();
  return m;
}

bool needs_persist(const Ready& ready) {
  return ready.hard_state.has_value() || ready.snapshot.has_value() || !ready.entries_to_persist.empty();
}

std::vector<std::uint8_t> encode_persisted(const Ready& ready) {
  ByteWriter w;
  const std::uint8_t flags = (ready.hard_state ? 1 : 0) | (ready.snapshot ? 2 : 0);
  w.byte(flags);
  if (ready.snapshot) write_snapshot(w, *ready.snapshot);
  w.varint(ready.entries_to_persist.size());
  if (!ready.entries_to_persist.empty()) w.varint(ready.entries_to_persist.front().index);
  for (const Entry& e : ready.entries_to_persist) write_entry_body(w, e);
  if (ready.hard_state) {
    w.varint(ready.hard_state->term);
    w.varint(ready.hard_state->vote);
    w.varint(ready.hard_state->commit);
  }
  return w.take();
}

}  // namespace edgeswarm::raft
