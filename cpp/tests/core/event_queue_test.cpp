#include "edgeswarm/core/event_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "edgeswarm/core/rng.hpp"

using edgeswarm::core::EventHandle;
using edgeswarm::core::EventQueue;
using edgeswarm::core::Rng;
using edgeswarm::core::SimTime;

TEST(EventQueue, OrdersByTimeThenPriorityThenSequence) {
  EventQueue<int> q;
  q.push(20, 0, 1);
  q.push(10, 5, 2);
  q.push(10, 1, 3);
  q.push(10, 1, 4);  // same time and priority as 3: pushed later, leaves later
  q.push(5, 9, 5);
  std::vector<int> order;
  while (!q.empty()) order.push_back(q.pop().value);
  EXPECT_EQ(order, (std::vector<int>{5, 3, 4, 2, 1}));
}

TEST(EventQueue, PoppedEventCarriesItsKey) {
  EventQueue<int> q;
  q.push(7, 3, 42);
  const auto e = q.pop();
  EXPECT_EQ(e.time, 7);
  EXPECT_EQ(e.priority, 3);
  EXPECT_EQ(e.sequence, 1u);
  EXPECT_EQ(e.value, 42);
}

TEST(EventQueue, CancelIsLazyButExact) {
  EventQueue<std::vector<int>> q;
  const EventHandle a = q.push(1, 0, {1});
  const EventHandle b = q.push(2, 0, {2});
  const EventHandle c = q.push(3, 0, {3});
  EXPECT_EQ(q.size(), 3u);
  EXPECT_TRUE(q.cancel(b));
  EXPECT_FALSE(q.cancel(b));  // twice
  EXPECT_EQ(q.size(), 2u);
  EXPECT_TRUE(q.cancel(a));  // the top: peek_time moves on at once
  EXPECT_EQ(q.peek_time(), 3);
  EXPECT_EQ(q.pop().value, std::vector<int>{3});
  EXPECT_FALSE(q.cancel(c));  // already popped
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.pop(), std::logic_error);
  EXPECT_THROW(q.peek_time(), std::logic_error);
}

TEST(EventQueue, StaleHandleDoesNotCancelASlotReusedByALaterEvent) {
  EventQueue<int> q;
  const EventHandle old = q.push(1, 0, 1);
  q.pop();
  const EventHandle fresh = q.push(2, 0, 2);
  EXPECT_EQ(fresh.slot, old.slot);  // the slot was recycled
  EXPECT_FALSE(q.cancel(old));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.pop().value, 2);
}

TEST(EventQueue, MatchesASortedReferenceUnderRandomPushPopCancel) {
  Rng rng(5);
  EventQueue<int> q;
  using Key = std::tuple<SimTime, int, int>;  // (time, priority, push order) as the reference key
  std::vector<Key> ref;
  std::vector<std::pair<EventHandle, Key>> handles;
  int pushed = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto op = rng.below(10);
    if (op < 5 || ref.empty()) {
      const SimTime t = static_cast<SimTime>(rng.below(50));
      const int p = static_cast<int>(rng.below(3));
      const Key k{t, p, pushed};
      handles.push_back({q.push(t, p, pushed), k});
      ref.push_back(k);
      ++pushed;
    } else if (op < 8) {
      const auto it = std::min_element(ref.begin(), ref.end());
      ASSERT_EQ(q.peek_time(), std::get<0>(*it));
      const auto e = q.pop();
      ASSERT_EQ(e.value, std::get<2>(*it));
      ref.erase(it);
    } else {
      const auto& [h, k] = handles[rng.below(handles.size())];
      const auto it = std::find(ref.begin(), ref.end(), k);
      ASSERT_EQ(q.cancel(h), it != ref.end());
      if (it != ref.end()) ref.erase(it);
    }
    ASSERT_EQ(q.size(), ref.size());
  }
}
