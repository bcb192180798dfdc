#include "edgeswarm/net/disk.hpp"

#include <gtest/gtest.h>

using edgeswarm::net::Bytes;
using edgeswarm::net::Disk;

TEST(Disk, WritesAreVisibleAtOnceButDurableOnlyWhenMadeSo) {
  Disk d;
  const auto a = d.write("k", Bytes{1});
  const auto b = d.write("k", Bytes{2});
  EXPECT_EQ(b, a + 1);
  ASSERT_NE(d.read("k"), nullptr);
  EXPECT_EQ(*d.read("k"), Bytes{2});
  EXPECT_EQ(d.read_durable("k"), nullptr);
  EXPECT_EQ(d.make_durable(a), 1u);
  EXPECT_EQ(*d.read_durable("k"), Bytes{1});
  EXPECT_EQ(*d.read("k"), Bytes{2});
  EXPECT_EQ(d.durable_id(), a);
  EXPECT_EQ(d.pending(), 1u);
}

TEST(Disk, DurabilityIsInWriteOrder) {
  Disk d;
  d.write("a", Bytes{1});
  d.write("b", Bytes{2});
  const auto c = d.write("c", Bytes{3});
  EXPECT_EQ(d.make_durable(c), 3u);  // a later fsync covers earlier writes
  EXPECT_EQ(d.durable().size(), 3u);
  EXPECT_EQ(d.make_durable(c), 0u);  // a repeated notice changes nothing
}

TEST(Disk, CrashLosesPendingWritesAndRemovals) {
  Disk d;
  const auto a = d.write("a", Bytes{1});
  d.make_durable(a);
  d.remove("a");
  d.write("b", Bytes{2});
  EXPECT_EQ(d.read("a"), nullptr);  // the removal is visible while running
  d.crash();
  EXPECT_EQ(d.pending(), 0u);
  ASSERT_NE(d.read("a"), nullptr);
  EXPECT_EQ(*d.read("a"), Bytes{1});
  EXPECT_EQ(d.read("b"), nullptr);
  const auto r = d.remove("a");
  EXPECT_GT(r, a + 2);  // ids are never reused, even for lost writes
  d.make_durable(r);
  EXPECT_TRUE(d.durable().empty());
}
