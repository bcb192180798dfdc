#include "edgeswarm/raft/log.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace edgeswarm::raft {

Log::Log(std::uint64_t snapshot_index, std::uint64_t snapshot_term)
    : snapshot_index_(snapshot_index), snapshot_term_(snapshot_term) {}

std::optional<std::uint64_t> Log::term(std::uint64_t index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entries_[index - snapshot_index_ - 1].term;
}

bool Log::matches(std::uint64_t index, std::uint64_t t) const {
  const auto held = term(index);
  return held && *held == t;
}

const Entry& Log::at(std::uint64_t index) const {
  if (index <= snapshot_index_ || index > last_index()) {
    throw std::out_of_range("index: " + std::to_string(index) + " is not held; held [" + std::to_string(first_index()) +
                            ", " + std::to_string(last_index()) + "]");
  }
  return entries_[index - snapshot_index_ - 1];
}

std::vector<Entry> Log::slice(std::uint64_t lo, std::uint64_t hi, std::size_t max_count) const {
  hi = std::min(hi, last_index() + 1);
  if (lo >= hi) return {};
  if (lo <= snapshot_index_) throw std::out_of_range("lo: " + std::to_string(lo) + " is compacted");
  hi = std::min<std::uint64_t>(hi, lo + std::min<std::uint64_t>(max_count, hi - lo));
  const auto begin = entries_.begin() + static_cast<std::ptrdiff_t>(lo - snapshot_index_ - 1);
  return std::vector<Entry>(begin, begin + static_cast<std::ptrdiff_t>(hi - lo));
}

std::uint64_t Log::find_conflict(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    // Entries at or below the snapshot point are committed, hence identical.
    if (e.index <= snapshot_index_) continue;
    if (!matches(e.index, e.term)) return e.index;
  }
  return 0;
}

std::uint64_t Log::first_index_of_term_run(std::uint64_t index, std::uint64_t floor) const {
  const auto t = term(index);
  if (!t) return index;
  floor = std::max(floor, first_index());
  while (index > floor && term(index - 1) == t) --index;
  return index;
}

std::optional<std::uint64_t> Log::last_index_of_term(std::uint64_t t) const {
  // Terms never decrease along the log, so scan back from the end.
  for (std::uint64_t i = last_index(); i > snapshot_index_; --i) {
    const std::uint64_t here = entries_[i - snapshot_index_ - 1].term;
    if (here == t) return i;
    if (here < t) return std::nullopt;
  }
  if (snapshot_term_ == t && snapshot_index_ > 0) return snapshot_index_;
  return std::nullopt;
}

void Log::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  const std::uint64_t first = entries.front().index;
  if (first <= snapshot_index_ || first > last_index() + 1) {
    throw std::logic_error("Log::append: first index " + std::to_string(first) + " outside [" +
                           std::to_string(first_index()) + ", " + std::to_string(last_index() + 1) + "]");
  }
  entries_.resize(first - snapshot_index_ - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

void Log::push(Entry entry) {
  entry.index = last_index() + 1;
  entries_.push_back(std::move(entry));
}

void Log::compact(std::uint64_t index) {
  if (index <= snapshot_index_) return;
  if (index > last_index()) throw std::logic_error("Log::compact: index beyond the last entry");
  snapshot_term_ = *term(index);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_index_));
  snapshot_index_ = index;
}

void Log::reset(std::uint64_t index, std::uint64_t t) {
  entries_.clear();
  snapshot_index_ = index;
  snapshot_term_ = t;
}

}  // namespace edgeswarm::raft
