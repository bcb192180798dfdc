#pragma once
// Argument checks shared by the engine. Every message starts with the
// parameter's name, then the bad value, then what is allowed, e.g.
//   "trim: 0.6 is out of range; allowed [0, 0.5)"
// std::invalid_argument reaches Python as ValueError.

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace edgeswarm::core {

/// Shortest text that reads back as the same double.
inline std::string format_value(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

/// Throws std::invalid_argument with `message`.
[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

/// Throws "name: value is out of range; allowed <allowed>".
[[noreturn]] inline void fail_range(const std::string& name, const std::string& value, const std::string& allowed) {
  fail(name + ": " + value + " is out of range; allowed " + allowed);
}

/// Throws the range message unless `ok`.
inline void require(bool ok, const std::string& name, const std::string& value, const std::string& allowed) {
  if (!ok) fail_range(name, value, allowed);
}
inline void require(bool ok, const std::string& name, double value, const std::string& allowed) {
  if (!ok) fail_range(name, format_value(value), allowed);
}

/// `value` must be finite.
inline void require_finite(const std::string& name, double value, const std::string& allowed) {
  require(std::isfinite(value), name, value, allowed);
}
/// `value` must be finite and > 0.
inline void require_positive(const std::string& name, double value) {
  require(value > 0.0 && std::isfinite(value), name, value, "finite values > 0");
}
/// `value` must be finite and >= 0.
inline void require_non_negative(const std::string& name, double value) {
  require(value >= 0.0 && std::isfinite(value), name, value, "finite values >= 0");
}
/// `value` must lie in [0, 1].
inline void require_fraction(const std::string& name, double value) {
  require(value >= 0.0 && value <= 1.0, name, value, "[0, 1]");
}

}  // namespace edgeswarm::core
