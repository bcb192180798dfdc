#include "edgeswarm/ml/sorted_window.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "edgeswarm/core/rng.hpp"

namespace edgeswarm::ml {
namespace {

TEST(SortedWindow, HoldsTheLastCapacityValuesSorted) {
  constexpr std::size_t kCapacity = 7;
  SortedWindow window(kCapacity);
  core::Rng rng(3, 0);
  std::vector<double> stream;
  for (int i = 0; i < 200; ++i) {
    // Few distinct values, so duplicates enter and leave the window.
    const double x = static_cast<double>(rng.next_u64() % 5);
    stream.push_back(x);
    window.push(x);
    const std::size_t n = std::min(stream.size(), kCapacity);
    std::vector<double> expected(stream.end() - static_cast<std::ptrdiff_t>(n), stream.end());
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(window.sorted(), expected) << "after " << i + 1 << " values";
  }
}

TEST(SortedWindow, ClearEmptiesIt) {
  SortedWindow window(3);
  for (double x : {3.0, 1.0, 2.0, 5.0}) window.push(x);
  EXPECT_EQ(window.sorted(), (std::vector<double>{1.0, 2.0, 5.0}));
  window.clear();
  EXPECT_TRUE(window.empty());
  window.push(4.0);
  EXPECT_EQ(window.sorted(), (std::vector<double>{4.0}));
}

}  // namespace
}  // namespace edgeswarm::ml
