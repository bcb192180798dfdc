// The replicated KV state machine: commands, sessions that de-duplicate
// retries, the emergency log, opaque payloads, and snapshot round trips.

#include "edgeswarm/raft/kv_store.hpp"

#include <gtest/gtest.h>

#include "../expect_invalid.hpp"
#include "edgeswarm/raft/codec.hpp"

using namespace edgeswarm::raft;

namespace {

std::vector<std::uint8_t> cmd(KvOp op, std::uint64_t client, std::uint64_t seq, const std::string& key,
                              const std::string& value = {}) {
  return encode(KvCommand{op, client, seq, key, value});
}

}  // namespace

TEST(KvStore, CommandRoundTrip) {
  const KvCommand c{KvOp::Append, 7, 300, "key", std::string("v\0x", 3)};
  const auto decoded = decode_kv_command(encode(c));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->op, KvOp::Append);
  EXPECT_EQ(decoded->client, 7u);
  EXPECT_EQ(decoded->seq, 300u);
  EXPECT_EQ(decoded->key, "key");
  EXPECT_EQ(decoded->value, std::string("v\0x", 3));
}

TEST(KvStore, PutGetAppendDelete) {
  KvStore kv;
  EXPECT_TRUE(kv.apply(1, cmd(KvOp::Put, 1, 1, "a", "x"))->result.found);
  kv.apply(2, cmd(KvOp::Append, 1, 2, "a", "y"));
  kv.apply(3, cmd(KvOp::Append, 1, 3, "b", "z"));
  const auto got = kv.apply(4, cmd(KvOp::Get, 1, 4, "a"));
  EXPECT_TRUE(got->result.found);
  EXPECT_EQ(got->result.value, "xy");
  EXPECT_EQ(kv.get("b"), "z");
  EXPECT_TRUE(kv.apply(5, cmd(KvOp::Delete, 1, 5, "a"))->result.found);
  EXPECT_FALSE(kv.apply(6, cmd(KvOp::Delete, 1, 6, "a"))->result.found);
  EXPECT_FALSE(kv.apply(7, cmd(KvOp::Get, 1, 7, "a"))->result.found);
  EXPECT_EQ(kv.applied_index(), 7u);
  EXPECT_EQ(kv.executed(), 7u);
}

TEST(KvStore, RetryAppliesOnceAndReturnsTheFirstResult) {
  KvStore kv;
  kv.apply(1, cmd(KvOp::Append, 1, 1, "k", "a"));
  const auto again = kv.apply(2, cmd(KvOp::Append, 1, 1, "k", "a"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(kv.get("k"), "a");  // not "aa"
  // A retried get returns what the first execution read, not the current value.
  kv.apply(3, cmd(KvOp::Get, 2, 1, "k"));
  kv.apply(4, cmd(KvOp::Put, 1, 2, "k", "new"));
  const auto get_again = kv.apply(5, cmd(KvOp::Get, 2, 1, "k"));
  EXPECT_TRUE(get_again->duplicate);
  EXPECT_EQ(get_again->result.value, "a");
  // An older sequence than the session's last is ignored.
  const auto stale = kv.apply(6, cmd(KvOp::Put, 1, 1, "k", "old"));
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(kv.get("k"), "new");
  EXPECT_EQ(kv.executed(), 3u);
}

TEST(KvStore, OpaquePayloadsAreSkipped) {
  KvStore kv;
  EXPECT_FALSE(kv.apply(1, {1, 2, 3}));
  EXPECT_FALSE(kv.apply(2, {}));
  EXPECT_FALSE(kv.apply(3, {kCommandMagic, 9, 1, 1}));             // unknown op
  EXPECT_FALSE(kv.apply(4, {kCommandMagic, 0, 1, 1, 5, 'a'}));     // truncated key
  EXPECT_FALSE(kv.apply(5, {kCommandMagic, 0, 0, 1, 1, 'a', 0}));  // client 0
  EXPECT_TRUE(kv.data().empty());
  EXPECT_EQ(kv.applied_index(), 5u);
}

TEST(KvStore, EmergencyLogKeepsCommitOrder) {
  KvStore kv;
  EXPECT_EQ(kv.apply(3, cmd(KvOp::Emergency, 1, 1, "fire-1", "zone A"))->result.position, 1u);
  EXPECT_EQ(kv.apply(4, cmd(KvOp::Emergency, 2, 1, "flood-2", "zone B"))->result.position, 2u);
  EXPECT_EQ(kv.apply(5, cmd(KvOp::Emergency, 1, 1, "fire-1", "zone A"))->result.position, 1u);  // retry
  ASSERT_EQ(kv.emergencies().size(), 2u);
  EXPECT_EQ(kv.emergencies()[0], (EmergencyRecord{3, 1, "fire-1", "zone A"}));
  EXPECT_EQ(kv.emergencies()[1].index, 4u);
}

TEST(KvStore, SnapshotRoundTripKeepsSessions) {
  KvStore kv;
  kv.apply(1, cmd(KvOp::Put, 1, 1, "a", "1"));
  kv.apply(2, cmd(KvOp::Emergency, 2, 1, "e", "payload"));
  kv.apply(3, cmd(KvOp::Append, 1, 2, "a", "2"));
  const std::vector<std::uint8_t> bytes = kv.serialize();
  KvStore back = KvStore::deserialize(bytes);
  EXPECT_EQ(back, kv);
  EXPECT_EQ(back.serialize(), bytes);
  // The restored sessions still de-duplicate.
  const auto retry = back.apply(4, cmd(KvOp::Append, 1, 2, "a", "2"));
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(back.get("a"), "12");
  EXPECT_EQ(KvStore::deserialize({}), KvStore());
}

TEST(KvStore, MalformedSnapshotIsRejected) {
  KvStore kv;
  kv.apply(1, cmd(KvOp::Put, 1, 1, "a", "1"));
  std::vector<std::uint8_t> bytes = kv.serialize();
  bytes.pop_back();
  expect_invalid([&] { KvStore::deserialize(bytes); }, "data");
  expect_invalid([] { KvStore::deserialize({99}); }, "data");
}
