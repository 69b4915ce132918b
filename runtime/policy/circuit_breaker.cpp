#include "runtime/policy/circuit_breaker.hpp"

#include <algorithm>

namespace batching {

circuit_breaker::circuit_breaker(circuit_breaker_config cfg) : cfg_(cfg) {
  // nop
}

bool circuit_breaker::allows() const {
  switch (state_) {
    case breaker_state::closed: return true;
    case breaker_state::open: return false;
    default: return trials_in_flight_ == 0;
  }
}

std::optional<time_point> circuit_breaker::half_open_at() const {
  if (state_ != breaker_state::open)
    return std::nullopt;
  return opened_at_ + open_for_;
}

std::optional<circuit_breaker::transition>
circuit_breaker::advance(time_point now) {
  if (state_ == breaker_state::open && now >= *half_open_at())
    return move_to(breaker_state::half_open, now, "open timeout elapsed");
  return std::nullopt;
}

void circuit_breaker::on_sent() {
  if (state_ == breaker_state::half_open)
    ++trials_in_flight_;
}

void circuit_breaker::on_abandoned() {
  if (state_ == breaker_state::half_open && trials_in_flight_ > 0)
    --trials_in_flight_;
}

std::optional<circuit_breaker::transition>
circuit_breaker::on_result(batch_status status, time_point now) {
  bool failure = status == batch_status::retryable_failure;
  bool answered
    = status == batch_status::ok || status == batch_status::permanent_failure;
  switch (state_) {
    case breaker_state::closed:
      if (answered)
        consecutive_failures_ = 0;
      else if (failure && ++consecutive_failures_ >= cfg_.failure_threshold)
        return move_to(breaker_state::open, now,
                       std::to_string(consecutive_failures_)
                         + " consecutive failures");
      return std::nullopt;
    case breaker_state::open:
      // A request that started before the breaker opened: no effect.
      return std::nullopt;
    default:          // half_open
      on_abandoned(); // the trial is over either way
      if (failure)
        return move_to(breaker_state::open, now, "half-open trial failed");
      if (answered && ++trial_successes_ >= cfg_.recovery_attempts)
        return move_to(breaker_state::closed, now,
                       std::to_string(trial_successes_) + " successful trials");
      return std::nullopt;
  }
}

circuit_breaker::transition circuit_breaker::move_to(breaker_state next,
                                                     time_point now,
                                                     std::string reason) {
  transition result{state_, next, std::move(reason)};
  state_ = next;
  consecutive_failures_ = 0;
  trial_successes_ = 0;
  trials_in_flight_ = 0;
  if (next == breaker_state::open) {
    // First opening: the initial timeout; each failed half-open trial
    // doubles it, up to timeout_seconds.
    auto longest = from_seconds(cfg_.timeout_seconds);
    auto first = std::min(longest, from_seconds(cfg_.initial_timeout_seconds));
    open_for_ = result.from == breaker_state::half_open
                  ? std::min(longest, 2 * open_for_)
                  : first;
    opened_at_ = now;
  }
  return result;
}

} // namespace batching
