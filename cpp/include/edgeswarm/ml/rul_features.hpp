#pragma once
// Window features for remaining-useful-life (RUL) models: for every cycle of
// every engine, the current sensor values, their mean and least-squares slope
// over the trailing `window` cycles (fewer at the start) and the engine's age.
// Features at cycle i use cycles <= i only.
//
// Non-finite readings: a cycle with NaN or +-inf in any sensor is skipped. It
// gets no feature row, adds nothing to any window's sums or counts (so it is
// never averaged), and is counted in `skipped`. Time is the cycle's position in
// its engine's history, so a skipped cycle leaves a gap in time instead of
// shifting the cycles after it, and the window spans the last `window`
// positions (its finite cycles only).

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgeswarm::ml {

/// Row-major matrix, the layout of NumPy arrays.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Age feature = cycles since the start of the engine's history / kRulAgeScale.
inline constexpr double kRulAgeScale = 100.0;

/// Feature rows of the finite cycles, in input order.
struct RulFeatures {
  /// (n_kept, 3 * n_sensors + 1): values, window means, window slopes, age.
  RowMatrix values;
  /// Input row of each feature row.
  std::vector<std::int64_t> source_row;
  /// Cycles after this one until the engine's last recorded cycle (the RUL target of run-to-failure rows).
  std::vector<std::int64_t> remaining_cycles;
  /// Feature row of each engine's last finite cycle, -1 if the engine has none.
  std::vector<std::int64_t> last_row;
  /// Cycles skipped because a reading was NaN or infinite.
  std::size_t skipped = 0;
};

/// Features of `x` (n_rows, n_sensors), where engine e is rows [starts[e], starts[e + 1]) in cycle
/// order; `starts` begins at 0, never decreases and ends at n_rows; `window` >= 2.
RulFeatures rul_window_features(const Eigen::Ref<const RowMatrix>& x, const std::vector<std::int64_t>& starts,
                                int window);

}  // namespace edgeswarm::ml
