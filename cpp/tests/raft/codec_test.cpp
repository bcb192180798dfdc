// Wire and disk encodings of the cluster harness: messages decode to what was
// encoded and take exactly message_bytes() bytes.

#include "edgeswarm/raft/codec.hpp"

#include <gtest/gtest.h>

#include "../expect_invalid.hpp"

using namespace edgeswarm::raft;

namespace {

bool same(const Message& a, const Message& b) {
  return a.type == b.type && a.from == b.from && a.to == b.to && a.term == b.term && a.log_term == b.log_term &&
         a.index == b.index && a.commit == b.commit && a.entries == b.entries && a.reject == b.reject &&
         a.reject_hint == b.reject_hint && a.conflict_term == b.conflict_term && a.read_seq == b.read_seq &&
         a.transfer == b.transfer && a.snapshot == b.snapshot;
}

}  // namespace

TEST(Codec, MessagesRoundTripAtTheCountedSize) {
  Message append;
  append.type = MessageType::Append;
  append.from = 1;
  append.to = 300;
  append.term = 1ULL << 40;
  append.log_term = 7;
  append.index = 99;
  append.commit = 98;
  append.entries = {Entry{7, 100, EntryType::Normal, {1, 2, 3}}, Entry{8, 101, EntryType::ConfChange, {}}};
  Message reject;
  reject.type = MessageType::AppendResponse;
  reject.reject = true;
  reject.reject_hint = 12;
  reject.conflict_term = 3;
  Message vote;
  vote.type = MessageType::Vote;
  vote.transfer = true;
  vote.read_seq = 5;
  Message snap;
  snap.type = MessageType::Snapshot;
  snap.snapshot = Snapshot{50, 4, ConfState{{1, 2, 3}}, {9, 9, 9, 9}};
  for (const Message& m : {append, reject, vote, snap}) {
    const auto bytes = encode_message(m);
    EXPECT_EQ(bytes.size(), message_bytes(m)) << to_string(m.type);
    EXPECT_TRUE(same(decode_message(bytes), m)) << to_string(m.type);
  }
}

TEST(Codec, TruncatedMessagesAreRejected) {
  Message m;
  m.entries = {Entry{1, 1, EntryType::Normal, {1, 2, 3}}};
  auto bytes = encode_message(m);
  bytes.pop_back();
  expect_invalid([&] { decode_message(bytes); }, "bytes");
  expect_invalid([] { decode_message({}); }, "bytes");
}

TEST(Codec, PersistedRecordOnlyWhenSomethingIsDurable) {
  Ready rd;
  EXPECT_FALSE(needs_persist(rd));
  rd.hard_state = HardState{3, 1, 2};
  EXPECT_TRUE(needs_persist(rd));
  const auto small = encode_persisted(rd);
  rd.entries_to_persist = {Entry{3, 5, EntryType::Normal, std::vector<std::uint8_t>(100, 7)}};
  EXPECT_GT(encode_persisted(rd).size(), small.size() + 100);
}
