#pragma once

// One operation type's training-sample windows: what a window saw, the
// sample it closes into, what predictions aim for and how long advice
// holds. The batch engine (per operation) and the limiter zoo (items in
// chunks) feed the same class, so `ml` learns from the same samples in
// both.
//
// Algorithm.
//   A window opens at the first close() and closes at the first close()
//   at least `period` after its start once it holds >= 4 answered requests
//   (fewer make its throughput mostly noise), >= 1 send and >= 1 item
//   succeeded; otherwise it extends. Its sample:
//     features = mean strategy size at sends, mean requests in flight at
//       sends, queue depth at the close, arrivals / span, item latency
//       (EWMA) at the window's start, share of throttled and of failed
//       requests, seconds since the last 429 (600 if none or longer),
//       cpu and memory percent;
//     outcomes = succeeded items / span, their mean latency,
//       succeeded / (succeeded + failed).
//   Budget in play: the configuration declares a request budget, or a 429
//   came within the last 600 s.
//   Closed window told to the strategy: a backlog when the queue at the
//   close held at least twice its size; whether a budget is in play.
//   Target: the last closed window's arrival rate within the latency
//   target, with the configured priority, or throughput while a budget is
//   in play (requests are then the scarce resource).
//   Advice: a prediction at or above min_confidence (and a size > 0) holds
//   until three periods pass without a newer one; below it, none holds.
// Inputs: `now` on every call that needs time; counts as they happen.
// Invariants: a sample's span is >= period > 0, so its rates are finite;
// counts before the first close() never reach a sample.

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/policy/batch_size_strategy.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

class sample_window {
public:
  struct config {
    std::string op_type;
    duration period = std::chrono::seconds{2};
    double min_confidence = 0.6;
    target_priority priority = target_priority::balanced;
    bool documented_budget = false;
  };

  /// What the owner knows at a close, beside the window's counts.
  struct at_close {
    double queue_depth = 0;
    double item_latency_ms = 0; // EWMA now: the next window's start
    double cpu_percent = 0;
    double memory_percent = 0;
  };

  explicit sample_window(config cfg) : cfg_(std::move(cfg)) {}

  void enqueued(std::uint64_t n) { w_.enqueued += n; }
  /// A request leaves at strategy size `size` with `in_flight` others out.
  void sent(double size, double in_flight);
  /// A request's answer.
  void answered(bool throttled, bool failed, time_point now);
  /// `n` items succeeded, each `latency_ms` after its submission.
  void succeeded(std::uint64_t n, double latency_ms);
  void failed(std::uint64_t n) { w_.failed += n; }

  /// The sample of the window that closes now, if one does (the first
  /// call opens the first window).
  std::optional<training_sample> close(time_point now, const at_close& in);

  /// What a strategy at size `size` is told of the window that closed
  /// into `s`: a backlog (at least twice its size waited), a budget.
  window_state closed(const training_sample& s, double size,
                      time_point now) const {
    return {s.features.pending_operations >= 2 * size, budget_in_play(now)};
  }

  double seconds_since_throttle(time_point now) const;
  bool budget_in_play(time_point now) const;
  optimization_target target(time_point now, double target_latency_ms) const;

  /// The size a prediction advises, if it is confident enough (it then
  /// holds for three periods); one that is not clears held advice.
  std::optional<std::uint32_t> accept(const prediction& p, time_point now);
  /// Held advice ran out by `now`: true once, then nothing is held.
  bool advice_expired(time_point now);

private:
  struct counts {
    time_point start{};
    std::uint64_t enqueued = 0;
    std::uint64_t requests = 0;
    std::uint64_t throttled = 0;
    std::uint64_t failed_requests = 0;
    std::uint64_t sends = 0;
    double size_sum = 0;
    double in_flight_sum = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    double latency_sum_ms = 0;
    double start_latency_ms = 0;
  };

  config cfg_;
  counts w_;
  bool open_ = false;
  double arrival_rate_ = 0;
  std::optional<time_point> last_throttle_;
  time_point advice_until_{};
  bool advised_ = false;
};

} // namespace batching
