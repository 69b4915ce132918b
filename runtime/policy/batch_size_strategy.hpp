#pragma once

// Batch-size strategies: how many operations the next batch of one
// operation type should carry. One interface, five strategies; every one is
// updated once per completed request and always answers a size within
// [lo, hi] where lo = batching.min_batch_size and hi = min(batching.
// max_batch_size, the type's max_batch_size). It starts at the type's
// preferred_batch_size (clamped to [lo, hi]).
//
// Signals (sizing_signals): item latency (submit -> outcome, EWMA), request
// latency (backend time, EWMA), request error rate (EWMA), whether the
// request was throttled, resource pressure (0 none, 0.5 warning, 1
// critical), and the queue depth. Parameters: target T =
// target_response_time, max error rate E, sensitivity a =
// adaptation_sensitivity, preferred size p.
//
// A *violation* is: item latency > T, or error rate > E, or pressure >= 1.
// Throttling never changes the size: the pacer owns the request rate, and a
// smaller batch would only cost goodput under a request budget.
//
//   conservative  violation: s = s / 2
//                 healthy (item latency < 0.7 T, no errors, pressure 0):
//                   s = s + max(1, a * s / 4)
//   aggressive    violation: s = s * (1 - a / 2)
//                 healthy (item latency < T): s = s * (1 + a)
//   balanced      (AIMD) violation: s = s * (1 - a)
//                 healthy (item latency < 0.85 T): s = s + max(1, a * p / 2)
//   adaptive      separates the backend's share of latency from queueing:
//                 backlog = queue >= 2 s;
//                 cap = s * clamp(k T / request latency, 0.5, 2), where the
//                   request itself may use k = 1/2 of the latency target, or
//                   all of it (k = 1) under a backlog, whose queueing
//                   already dominates item latency;
//                 if error rate > E or pressure >= 1: want = s * (1 - a)
//                 elif backlog: want = min(cap, s * (1 + 2a))
//                   (bigger requests drain a backlog under a request budget)
//                 else: want = min(cap, max(s, p));
//                 want *= 1 - 0.3 * pressure (warning trims batches);
//                 s = s + a * (want - s), rounded towards want.
//   static        s = p forever (the seed's baseline; peers that only
//                 control flow batch this way).
//   ml            runs `adaptive` underneath (its size f) and takes advice:
//                 the optimizer's predicted size m, given by the engine only
//                 when its confidence reaches optimizer.min_confidence.
//                 base = m if advised, else f;
//                 if error rate > E or pressure >= 1: s = f (adaptive's
//                   shrinking wins: the model never saw this trouble);
//                 elif backlog (queue >= 2 f): s = max(base, f) (the model
//                   may not shrink batches while demand waits: that would
//                   cost goodput under a request budget);
//                 else s = base * d, d cycling per sample window through
//                   (1, 0.7, 1, 1.4) unadvised, (1, 0.85, 1, 1.15) advised:
//                   exploration, so the samples show how outcomes respond to
//                   batch size (a model fed one size cannot learn its effect).
//                 It sizes batches only; the pacer's request budget and
//                 Retry-After stay with the gate.
// Invariants: lo <= size() <= hi after every update.

#include <cstdint>
#include <memory>
#include <optional>

#include "runtime/policy/types.hpp"

namespace batching {

/// What a strategy sees after each completed request.
struct sizing_signals {
  double item_latency_ms = 0;
  double request_latency_ms = 0;
  double error_rate = 0;
  bool throttled = false;
  double pressure = 0;
  std::size_t queue_depth = 0;
};

class batch_size_strategy {
public:
  struct limits {
    std::uint32_t lo = 10;
    std::uint32_t hi = 500;
    std::uint32_t preferred = 100;
    double target_latency_ms = 500;
    double max_error_rate = 0.05;
    double sensitivity = 0.2;
  };

  explicit batch_size_strategy(limits lim);
  virtual ~batch_size_strategy() = default;

  virtual strategy_kind kind() const = 0;

  /// The size for the next batch, within [lo, hi].
  std::uint32_t size() const { return size_; }

  /// Feeds one completed request's signals.
  void update(const sizing_signals& sig);

  /// Learning strategies (ml) take the optimizer's confident advice, or
  /// nothing to fall back; the others ignore it.
  virtual void advise(std::optional<std::uint32_t> /*size*/) {}

  /// A training-sample window ended (ml explores per window).
  virtual void next_window() {}

protected:
  /// Returns the next size (before clamping).
  virtual double next(double current, const sizing_signals& sig) = 0;

  bool violated(const sizing_signals& sig) const;

  /// Sets the size (clamped to [lo, hi]) outside update().
  void resize(double s);

  limits lim_;

private:
  std::uint32_t size_;
};

/// Makes the strategy of `kind` with `lim`.
std::unique_ptr<batch_size_strategy>
make_strategy(strategy_kind kind, batch_size_strategy::limits lim);

} // namespace batching
