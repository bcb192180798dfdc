#include "edgeswarm/raft/kv_store.hpp"

#include <stdexcept>

#include "edgeswarm/core/arguments.hpp"
#include "edgeswarm/raft/codec.hpp"

namespace edgeswarm::raft {
namespace {

constexpr std::uint8_t kSnapshotVersion = 1;

void write_result(ByteWriter& w, const KvResult& r) {
  w.byte(r.found ? 1 : 0);
  w.blob(r.value);
  w.varint(r.position);
}

KvResult read_result(ByteReader& r) {
  KvResult out;
  out.found = r.byte() != 0;
  out.value = r.text();
  out.position = r.varint();
  return out;
}

}  // namespace

const char* to_string(KvOp op) {
  switch (op) {
    case KvOp::Put:
      return "put";
    case KvOp::Get:
      return "get";
    case KvOp::Append:
      return "append";
    case KvOp::Delete:
      return "delete";
    case KvOp::Emergency:
      return "emergency";
  }
  return "unknown";
}

std::vector<std::uint8_t> encode(const KvCommand& c) {
  ByteWriter w;
  w.reserve(8 + c.key.size() + c.value.size());
  w.byte(kCommandMagic);
  w.byte(static_cast<std::uint8_t>(c.op));
  w.varint(c.client);
  w.varint(c.seq);
  w.blob(c.key);
  w.blob(c.value);
  return w.take();
}

std::optional<KvCommand> decode_kv_command(const std::vector<std::uint8_t>& payload) {
  if (payload.size() < 2 || payload[0] != kCommandMagic) return std::nullopt;
  if (payload[1] > static_cast<std::uint8_t>(KvOp::Emergency)) return std::nullopt;
  try {
    ByteReader r(payload.data() + 2, payload.size() - 2);
    KvCommand c;
    c.op = static_cast<KvOp>(payload[1]);
    c.client = r.varint();
    c.seq = r.varint();
    c.key = r.text();
    c.value = r.text();
    if (!r.done() || c.client == 0 || c.seq == 0) return std::nullopt;
    return c;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

std::optional<KvApplied> KvStore::apply(std::uint64_t index, const std::vector<std::uint8_t>& payload) {
  applied_ = index;
  std::optional<KvCommand> c = decode_kv_command(payload);
  if (!c) return std::nullopt;
  KvApplied out;
  out.client = c->client;
  out.seq = c->seq;
  Session& s = sessions_[c->client];
  if (c->seq < s.seq) {
    out.stale = true;
  } else if (c->seq == s.seq) {
    out.duplicate = true;
    out.result = s.result;
  } else {
    out.result = execute(index, *c);
    s.seq = c->seq;
    s.result = out.result;
  }
  return out;
}

KvResult KvStore::execute(std::uint64_t index, const KvCommand& c) {
  ++executed_;
  KvResult r;
  switch (c.op) {
    case KvOp::Put:
      data_[c.key] = c.value;
      r.found = true;
      break;
    case KvOp::Get: {
      const auto it = data_.find(c.key);
      r.found = it != data_.end();
      if (r.found) r.value = it->second;
      break;
    }
    case KvOp::Append:
      data_[c.key] += c.value;
      r.found = true;
      break;
    case KvOp::Delete:
      r.found = data_.erase(c.key) > 0;
      break;
    case KvOp::Emergency:
      emergencies_.push_back({index, c.client, c.key, c.value});
      r.found = true;
      r.position = emergencies_.size();
      break;
  }
  return r;
}

std::optional<std::string> KvStore::get(const std::string& key) const {
  const auto it = data_.find(key);
  if (it == data_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::uint8_t> KvStore::serialize() const {
  ByteWriter w;
  w.byte(kSnapshotVersion);
  w.varint(applied_);
  w.varint(executed_);
  w.varint(data_.size());
  for (const auto& [k, v] : data_) {
    w.blob(k);
    w.blob(v);
  }
  w.varint(emergencies_.size());
  for (const EmergencyRecord& e : emergencies_) {
    w.varint(e.index);
    w.varint(e.client);
    w.blob(e.key);
    w.blob(e.value);
  }
  w.varint(sessions_.size());
  for (const auto& [client, s] : sessions_) {
    w.varint(client);
    w.varint(s.seq);
    write_result(w, s.result);
  }
  return w.take();
}

KvStore KvStore::deserialize(const std::vector<std::uint8_t>& bytes) {
  KvStore kv;
  if (bytes.empty()) return kv;
  try {
    ByteReader r(bytes);
    const std::uint8_t version = r.byte();
    if (version != kSnapshotVersion) {
      core::fail("data: snapshot version " + std::to_string(version) + " is not supported; expected " +
                 std::to_string(kSnapshotVersion));
    }
    kv.applied_ = r.varint();
    kv.executed_ = r.varint();
    for (std::uint64_t n = r.varint(), i = 0; i < n; ++i) {
      std::string k = r.text();
      kv.data_[std::move(k)] = r.text();
    }
    for (std::uint64_t n = r.varint(), i = 0; i < n; ++i) {
      EmergencyRecord e;
      e.index = r.varint();
      e.client = r.varint();
      e.key = r.text();
      e.value = r.text();
      kv.emergencies_.push_back(std::move(e));
    }
    for (std::uint64_t n = r.varint(), i = 0; i < n; ++i) {
      const std::uint64_t client = r.varint();
      Session s;
      s.seq = r.varint();
      s.result = read_result(r);
      kv.sessions_[client] = std::move(s);
    }
    if (!r.done()) core::fail("data: trailing bytes after the snapshot");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("data:", 0) == 0) throw;
    core::fail("data: malformed snapshot (" + what + ")");
  }
  return kv;
}

bool operator==(const KvStore& a, const KvStore& b) {
  if (a.applied_ != b.applied_ || a.executed_ != b.executed_ || a.data_ != b.data_ ||
      a.emergencies_ != b.emergencies_ || a.sessions_.size() != b.sessions_.size()) {
    return false;
  }
  for (auto i = a.sessions_.begin(), j = b.sessions_.begin(); i != a.sessions_.end(); ++i, ++j) {
    if (i->first != j->first || i->second.seq != j->second.seq || !(i->second.result == j->second.result)) {
      return false;
    }
  }
  return true;
}

}  // namespace edgeswarm::raft
