#pragma once

// Circuit breaker per backend.
//
// Algorithm (states closed, open, half_open):
//   closed:    a retryable failure (5xx, timeout, connection error) increments
//              a counter of consecutive failures; ok and permanent failures
//              (4xx: the backend answered) reset it. At failure_threshold the
//              breaker opens.
//   open:      no request may start. After the open time it becomes
//              half_open. The open time starts at initial_timeout and
//              doubles each time a half-open trial fails, up to timeout
//              (a short outage costs seconds, a long one few trials).
//   half_open: one trial request at a time. Each successful trial counts;
//              after recovery_attempts of them the breaker closes. A
//              retryable failure reopens it (for twice the open time).
// Throttling (HTTP 429) is backpressure, not failure: it never counts, in any
// state (a throttled trial just frees the trial slot).
//
// Inputs: request results with `now`; `advance(now)` performs the time-based
// open -> half_open step. Every call that changes the state returns the
// transition, so the shell can broadcast it.
// Invariants: only the edges closed->open, open->half_open, half_open->open,
// half_open->closed occur; while open, allows() is false.

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/policy/settings.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

class circuit_breaker {
public:
  struct transition {
    breaker_state from;
    breaker_state to;
    std::string reason;
  };

  explicit circuit_breaker(circuit_breaker_config cfg = {});

  breaker_state state() const { return state_; }

  /// Whether a request may start now (call advance(now) first).
  bool allows() const;

  /// When an open breaker turns half-open; nothing unless open.
  std::optional<time_point> half_open_at() const;

  /// Performs time-based transitions (open -> half_open).
  std::optional<transition> advance(time_point now);

  /// A request started (counts the half-open trial).
  void on_sent();

  /// A request's result.
  std::optional<transition> on_result(batch_status status, time_point now);

  /// A started request ended without a result (e.g. it was never sent).
  void on_abandoned();

private:
  transition move_to(breaker_state next, time_point now, std::string reason);

  circuit_breaker_config cfg_;
  breaker_state state_ = breaker_state::closed;
  std::uint32_t consecutive_failures_ = 0;
  std::uint32_t trial_successes_ = 0;
  std::uint32_t trials_in_flight_ = 0;
  time_point opened_at_{};
  duration open_for_{0};
};

} // namespace batching
