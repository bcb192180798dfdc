#pragma once

#include <cstddef>
#include <vector>

namespace edgeswarm::ml {

// The last `capacity` values of a stream, kept both in arrival order (to know which one leaves)
// and sorted (for medians, quantiles and neighbour counts). O(capacity) per push.
class SortedWindow {
 public:
  explicit SortedWindow(std::size_t capacity);

  // Adds x; once full, the oldest value leaves first.
  void push(double x);
  // The window's values in ascending order.
  const std::vector<double>& sorted() const { return sorted_; }
  std::size_t size() const { return sorted_.size(); }
  bool empty() const { return sorted_.empty(); }
  void clear();

 private:
  std::size_t capacity_;
  std::vector<double> ring_;    // arrival order
  std::vector<double> sorted_;  // the same values, sorted
  std::size_t head_ = 0;        // next ring slot to overwrite once full
};

}  // namespace edgeswarm::ml
