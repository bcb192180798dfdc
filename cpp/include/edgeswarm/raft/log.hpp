#pragma once
// The in-memory Raft log: entries after a compaction point (the snapshot
// index and term). Indexes start at 1; index 0 has term 0. Entries at or
// below the compaction point are gone and have no known term, except the
// compaction point itself.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "edgeswarm/raft/records.hpp"

namespace edgeswarm::raft {

/// Log entries after a snapshot point.
class Log {
 public:
  /// An empty log starting after (snapshot_index, snapshot_term).
  explicit Log(std::uint64_t snapshot_index = 0, std::uint64_t snapshot_term = 0);

  /// Index of the last entry covered by the snapshot.
  std::uint64_t snapshot_index() const { return snapshot_index_; }
  /// Term of the entry at snapshot_index().
  std::uint64_t snapshot_term() const { return snapshot_term_; }
  /// First index still held (snapshot_index() + 1).
  std::uint64_t first_index() const { return snapshot_index_ + 1; }
  /// Index of the last entry (snapshot_index() when no entries are held).
  std::uint64_t last_index() const { return snapshot_index_ + entries_.size(); }
  /// Term of the last entry.
  std::uint64_t last_term() const { return *term(last_index()); }
  /// Number of entries held.
  std::size_t size() const { return entries_.size(); }

  /// Term at `index`, or nothing if compacted away or beyond the last entry.
  std::optional<std::uint64_t> term(std::uint64_t index) const;
  /// True when the entry at `index` exists (or is the snapshot point) with `term`.
  bool matches(std::uint64_t index, std::uint64_t term) const;
  /// The entry at `index`; throws std::out_of_range outside [first_index, last_index].
  const Entry& at(std::uint64_t index) const;
  /// Entries [lo, hi) capped at `max_count`; lo must be >= first_index().
  std::vector<Entry> slice(std::uint64_t lo, std::uint64_t hi, std::size_t max_count = SIZE_MAX) const;

  /// Index of the first of `entries` that is absent or has another term here,
  /// or 0 if all are present. `entries` must be consecutive.
  std::uint64_t find_conflict(const std::vector<Entry>& entries) const;
  /// First index >= floor of the run of entries with `term` that ends at `index`.
  std::uint64_t first_index_of_term_run(std::uint64_t index, std::uint64_t floor) const;
  /// Last index whose entry has `term`, or nothing.
  std::optional<std::uint64_t> last_index_of_term(std::uint64_t term) const;

  /// Appends consecutive entries starting at index first <= last_index() + 1,
  /// dropping any held entries at or after `first` beforehand.
  void append(const std::vector<Entry>& entries);
  /// Appends one entry at last_index() + 1.
  void push(Entry entry);
  /// Drops entries up to `index` (<= last_index()); `index` becomes the snapshot point.
  void compact(std::uint64_t index);
  /// Drops everything; the log restarts after (index, term).
  void reset(std::uint64_t index, std::uint64_t term);

 private:
  std::uint64_t snapshot_index_;
  std::uint64_t snapshot_term_;
  std::vector<Entry> entries_;  ///< entries_[i] has index snapshot_index_ + 1 + i
};

}  // namespace edgeswarm::raft
