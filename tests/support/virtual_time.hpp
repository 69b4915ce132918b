#pragma once

// The policy tests' clock: a moment as its offset from the epoch of virtual
// time (the policies take `now` and never read a clock).

#include "runtime/policy/types.hpp"

namespace batching::testing_support {

inline time_point at(duration d) { return time_point{} + d; }

/// The same, `s` seconds from the start.
inline time_point at(double s) { return time_point{} + from_seconds(s); }

} // namespace batching::testing_support
