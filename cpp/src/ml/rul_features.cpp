#include "edgeswarm/ml/rul_features.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeswarm/core/arguments.hpp"

namespace edgeswarm::ml {
namespace {

void validate_starts(const std::vector<std::int64_t>& starts, Eigen::Index n_rows) {
  core::require(starts.size() >= 2, "starts", std::to_string(starts.size()) + " boundaries", "at least 2 (one engine)");
  core::require(starts.front() == 0, "starts", "first " + std::to_string(starts.front()), "first 0");
  core::require(starts.back() == n_rows, "starts", "last " + std::to_string(starts.back()),
                "last = n_rows = " + std::to_string(n_rows));
  for (std::size_t e = 1; e < starts.size(); ++e) {
    core::require(starts[e] > starts[e - 1], "starts", "engine " + std::to_string(e - 1) + " with no rows",
                  "strictly increasing boundaries (every engine has rows)");
  }
}

bool row_is_finite(const Eigen::Ref<const RowMatrix>& x, Eigen::Index r) {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (!std::isfinite(x(r, j))) return false;
  }
  return true;
}

}  // namespace

RulFeatures rul_window_features(const Eigen::Ref<const RowMatrix>& x, const std::vector<std::int64_t>& starts,
                                int window) {
  core::require(window >= 2, "window", std::to_string(window), "integers >= 2");
  core::require(x.cols() >= 1, "x", std::to_string(x.cols()) + " sensor columns", ">= 1");
  validate_starts(starts, x.rows());
  const Eigen::Index n_s = x.cols();
  std::vector<char> finite(static_cast<std::size_t>(x.rows()));
  Eigen::Index n_kept = 0;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    finite[r] = row_is_finite(x, r);
    n_kept += finite[r];
  }
  RulFeatures out;
  out.values.resize(n_kept, 3 * n_s + 1);
  out.source_row.reserve(n_kept);
  out.remaining_cycles.reserve(n_kept);
  out.skipped = static_cast<std::size_t>(x.rows() - n_kept);

  // Prefix sums over each engine, as in the NumPy original (cumsum, then
  // differences), so the arithmetic and its rounding are the same. A skipped
  // cycle adds exact zeros and does not count.
  RowMatrix cx, ctx;
  std::vector<double> ct, ctt;
  std::vector<std::int64_t> count;
  Eigen::Index k = 0;
  for (std::size_t e = 0; e + 1 < starts.size(); ++e) {
    const Eigen::Index b = starts[e];
    const Eigen::Index n = starts[e + 1] - b;
    cx.setZero(n + 1, n_s);
    ctx.setZero(n + 1, n_s);
    ct.assign(n + 1, 0.0);
    ctt.assign(n + 1, 0.0);
    count.assign(n + 1, 0);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double t = static_cast<double>(i);
      const bool ok = finite[b + i];
      for (Eigen::Index j = 0; j < n_s; ++j) {
        const double v = ok ? x(b + i, j) : 0.0;
        cx(i + 1, j) = cx(i, j) + v;
        ctx(i + 1, j) = ctx(i, j) + (ok ? t * v : 0.0);
      }
      ct[i + 1] = ct[i] + (ok ? t : 0.0);
      ctt[i + 1] = ctt[i] + (ok ? t * t : 0.0);
      count[i + 1] = count[i] + (ok ? 1 : 0);
    }
    std::int64_t last = -1;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!finite[b + i]) continue;
      const Eigen::Index hi = i + 1;
      const Eigen::Index lo = std::max<Eigen::Index>(hi - window, 0);
      const double length = static_cast<double>(count[hi] - count[lo]);  // >= 1: cycle i is finite
      const double st = ct[hi] - ct[lo];
      const double var_t = (ctt[hi] - ctt[lo]) - st * st / length;
      for (Eigen::Index j = 0; j < n_s; ++j) {
        const double mean = (cx(hi, j) - cx(lo, j)) / length;
        const double sxt = ctx(hi, j) - ctx(lo, j);
        out.values(k, j) = x(b + i, j);
        out.values(k, n_s + j) = mean;
        // One cycle has no slope: zero rather than a division by zero.
        out.values(k, 2 * n_s + j) = var_t > 0.0 ? (sxt - st * mean) / var_t : 0.0;
      }
      out.values(k, 3 * n_s) = static_cast<double>(i + 1) / kRulAgeScale;
      out.source_row.push_back(b + i);
      out.remaining_cycles.push_back(n - 1 - i);
      last = k;
      ++k;
    }
    out.last_row.push_back(last);
  }
  return out;
}

}  // namespace edgeswarm::ml
