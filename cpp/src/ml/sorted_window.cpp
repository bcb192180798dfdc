#include "edgeswarm/ml/sorted_window.hpp"

#include <algorithm>

namespace edgeswarm::ml {

SortedWindow::SortedWindow(std::size_t capacity) : capacity_(capacity) {
  ring_.reserve(capacity);
  sorted_.reserve(capacity + 1);
}

void SortedWindow::push(double x) {
  if (ring_.size() < capacity_) {
    ring_.push_back(x);
  } else {
    const double old = ring_[head_];
    sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), old));
    ring_[head_] = x;
    head_ = (head_ + 1) % capacity_;
  }
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), x), x);
}

void SortedWindow::clear() {
  ring_.clear();
  sorted_.clear();
  head_ = 0;
}

}  // namespace edgeswarm::ml
