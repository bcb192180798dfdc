#pragma once
// A discrete-event queue in integer simulated time. Events leave in order of
// (time, priority, sequence): earlier time first, then lower priority value,
// then the order in which they were pushed, so ties never depend on the heap's
// internal layout. Cancellation is lazy: a cancelled event keeps its heap entry
// until that entry reaches the top, but its value is released at once and it
// no longer counts in size().
//
// Layout: the binary heap holds small fixed-size keys; values live in a slot
// array recycled through a free list, so steady-state push/pop allocates
// nothing of its own and values are moved, never copied.

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

namespace edgeswarm::core {

/// Simulated time in integer microseconds.
using SimTime = std::int64_t;

/// Identifies one pushed event for cancel(); stays unique for the queue's life.
struct EventHandle {
  std::uint32_t slot = 0;
  std::uint64_t sequence = 0;  ///< 0 never names an event
};

/// An event taken out of the queue.
template <typename T>
struct PoppedEvent {
  SimTime time;
  int priority;
  std::uint64_t sequence;
  T value;
};

/// Min-queue of events ordered by (time, priority, sequence) with lazy cancellation.
template <typename T>
class EventQueue {
 public:
  /// Adds an event; returns its handle.
  EventHandle push(SimTime time, int priority, T value) {
    std::uint32_t slot;
    if (free_.empty()) {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    const std::uint64_t seq = ++last_sequence_;
    Slot& s = slots_[slot];
    s.value = std::move(value);
    s.sequence = seq;
    s.live = true;
    heap_.push_back(Key{time, priority, slot, seq});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    ++live_;
    return EventHandle{slot, seq};
  }

  /// Removes and returns the first live event; throws std::logic_error when empty.
  PoppedEvent<T> pop() {
    if (live_ == 0) throw std::logic_error("pop: the event queue is empty");
    const Key top = take_top();
    Slot& s = slots_[top.slot];
    PoppedEvent<T> out{top.time, top.priority, top.sequence, std::move(s.value)};
    release(top.slot);
    --live_;
    drop_cancelled_top();
    return out;
  }

  /// Cancels a pending event; false if it already left the queue or was cancelled.
  bool cancel(EventHandle handle) {
    if (handle.slot >= slots_.size()) return false;
    Slot& s = slots_[handle.slot];
    if (!s.live || s.sequence != handle.sequence) return false;
    s.live = false;
    s.value = T{};  // free the payload now rather than when the entry surfaces
    --live_;
    drop_cancelled_top();
    return true;
  }

  /// Time of the first live event; throws std::logic_error when empty.
  SimTime peek_time() const {
    if (live_ == 0) throw std::logic_error("peek_time: the event queue is empty");
    return heap_.front().time;
  }

  /// True when no live event is pending.
  bool empty() const { return live_ == 0; }
  /// Number of live (pushed, not popped, not cancelled) events.
  std::size_t size() const { return live_; }

 private:
  struct Key {
    SimTime time;
    int priority;
    std::uint32_t slot;
    std::uint64_t sequence;
  };
  // std heap algorithms build a max-heap, so "less" means "leaves later".
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.priority != b.priority) return a.priority > b.priority;
      return a.sequence > b.sequence;
    }
  };
  struct Slot {
    T value{};
    std::uint64_t sequence = 0;
    bool live = false;
  };

  Key take_top() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Key k = heap_.back();
    heap_.pop_back();
    return k;
  }

  void release(std::uint32_t slot) {
    slots_[slot].live = false;
    slots_[slot].sequence = 0;
    free_.push_back(slot);
  }

  // Invariant: the heap is empty or its top is live, so peek_time is O(1).
  void drop_cancelled_top() {
    while (!heap_.empty() && !slots_[heap_.front().slot].live) release(take_top().slot);
  }

  std::vector<Key> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::uint64_t last_sequence_ = 0;
  std::size_t live_ = 0;
};

}  // namespace edgeswarm::core
