#pragma once

// When the runtime's supervisor spawns a dead actor (executor, gate,
// batcher) again.
//
// Algorithm: each death of a child is numbered k within its crash streak;
// the streak ends (k starts again at 0) when the child stayed up for `calm`
// since its last restart. The k-th restart of a streak waits
//     delay(k) = 0                                   for k = 0
//              = min(max_delay, first_delay * 2^(k-1)) otherwise,
// so one crash costs nothing and a crash loop settles at one restart per
// max_delay instead of spinning. It never gives up: the work a dead batcher
// held waits, parked, for its successor (nothing is dropped).
// Inputs: `now` at each death. Invariants: 0 <= delay <= max_delay;
// restarts() counts every death handed to on_death.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/policy/types.hpp"

namespace batching {

class restart_policy {
public:
  struct config {
    duration first_delay = std::chrono::milliseconds{100};
    duration max_delay = std::chrono::seconds{30};
    duration calm = std::chrono::seconds{60};
  };

  restart_policy() = default;

  explicit restart_policy(config cfg) : cfg_(cfg) {
    // nop
  }

  /// The child died at `now`: how long to wait before spawning it again.
  duration on_death(time_point now) {
    ++restarts_;
    if (restarts_ == 1 || now - last_restart_ >= cfg_.calm)
      streak_ = 0;
    auto k = streak_++;
    duration wait{0};
    if (k > 0) {
      auto raw = static_cast<double>(cfg_.first_delay.count())
                 * std::ldexp(
                   1.0, static_cast<int>(std::min<std::uint64_t>(k - 1, 62)));
      wait = duration{static_cast<duration::rep>(
        std::min(raw, static_cast<double>(cfg_.max_delay.count())))};
    }
    last_restart_ = now + wait;
    return wait;
  }

  std::uint64_t restarts() const { return restarts_; }

private:
  config cfg_;
  std::uint64_t restarts_ = 0;
  std::uint64_t streak_ = 0;
  time_point last_restart_{}; // read from the second death on
};

} // namespace batching
