#pragma once

// One-shot wakeups for actors. CAF 0.17 cannot cancel a delayed message, so
// each armed timer carries a generation number and only the latest one
// counts: arm() keeps the earliest pending due time, fire() tells whether a
// timer message is the live one.

#include <algorithm>
#include <cstdint>
#include <optional>

#include "messages/interfaces.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

class wakeup {
public:
  /// Arms a timer_atom to `self` at `at` unless one is pending for earlier.
  template <class Self>
  void arm(Self* self, time_point at, time_point now) {
    if (due_ && *due_ <= at)
      return;
    due_ = at;
    ++generation_;
    auto delay = std::max(at - now, duration{0});
    self->delayed_send(self, delay, timer_atom::value, generation_);
  }

  /// True when `generation` is the live timer (which is then consumed).
  bool fire(std::uint64_t generation) {
    if (generation != generation_ || !due_)
      return false;
    due_.reset();
    return true;
  }

private:
  std::uint64_t generation_ = 0;
  std::optional<time_point> due_;
};

/// The actor's clock reading as the policies' time_point.
template <class Self>
time_point now_of(Self* self) {
  return self->clock().now();
}

} // namespace batching
