#pragma once

#include <cstddef>

namespace edgeswarm::fleet {

// Below this many element operations a batch runs on one thread: OpenMP's team start-up costs
// more than the work (milliseconds on a loaded machine). Results never depend on the choice.
inline constexpr std::size_t kMinParallelWork = std::size_t{1} << 15;

}  // namespace edgeswarm::fleet
