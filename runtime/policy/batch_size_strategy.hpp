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
//                 cap = s * clamp(T / (2 * request latency), 0.5, 2): the
//                   request itself may use half the latency target;
//                 if error rate > E or pressure >= 1: want = s * (1 - a)
//                 elif backlog: want = s * (1 + 2a), no latency cap: every
//                   item waits in the queue already, and fewer items per
//                   request cannot raise throughput under any limit
//                   (a request budget r: r s; c requests in flight taking
//                   L(s) = l0 + l1 s: c s / L(s); both grow with s), nor
//                   lower a request latency that is the server's own
//                   queueing (a delaying limiter, a busy server). Requests
//                   that time out or fail shrink it through E;
//                   when the update before saw a backlog too and pressure
//                   is 0: s = want, unsmoothed (1.4x a request: 50 -> 1,000
//                   in 10, where the smoothed step, 2a^2 = 8%, took 38, 76 s
//                   at 0.5 requests/s); a backlog at one update only (one
//                   job's arrival) takes the smoothed step;
//                 else: want = min(cap, max(s, p));
//                 want *= 1 - 0.3 * pressure (warning trims batches);
//                 s = s + a * (want - s), rounded towards want.
//   static        s = p forever (the seed's baseline; peers that only
//                 control flow batch this way).
//   ml            runs `adaptive` underneath (its size f) and takes advice:
//                 the optimizer's predicted sizes, given by the engine only
//                 when their confidence reaches optimizer.min_confidence,
//                 averaged m = m + 0.3 (answer - m) (the first sets m),
//                 since single answers are noisy; no advice resets m.
//                 base = m if advised, else f;
//                 if pressure >= 1: s = f (adaptive's resource shrinking
//                   wins: the model never saw this trouble);
//                 elif error rate > E: s stays (errors do not say which
//                   size is better: shrinking a 503 outage's batches only
//                   slows the drain after it, and a database that fails
//                   under concurrency needs fewer, not smaller, batches);
//                 elif a request budget is in play (the backend's
//                   configuration declares one, or a 429 came within 600 s:
//                   a 429 says so at once, a window's close 600 s later
//                   releases it) and the last request itself took at most
//                   the latency target: s = max(s, base, f) * u, a ratchet
//                   towards the item cap (under a request budget fewer
//                   items per request can only cost goodput and bursts,
//                   and a batch still leaves on linger when demand is low);
//                 elif such a budget, or the last sample window closed with
//                   a backlog (queue >= 2 s): s = max(base, f) * u (the
//                   model may not shrink batches then: the queueing that
//                   costs shows windows later, beyond what one window's
//                   outcome can teach);
//                 else s = base * d;
//                 d cycles per sample window through (1, 0.8, 1, 1.25)
//                   unadvised and (1, 0.9, 1, 1.1) advised, u through the
//                   same with 1 in place of the shrinking step: exploration,
//                   so the samples show how outcomes respond to batch size
//                   (a model fed one size cannot learn its effect).
//                 It sizes batches only; the pacer's request budget and
//                 Retry-After stay with the gate.
//   clipper       peer, Clipper's released sizing (ucbrise/clipper
//                 containers.cpp; docs/anchors.md §9), adapted: the budget
//                 is B = 0.92 T (Clipper: 0.92 x the head query's time to
//                 its deadline; a strategy does not see queue ages). Per
//                 batch size b the request latencies of ok requests (raw,
//                 not averaged) are kept; if B > the largest latency seen:
//                 explore, s = s + 1 below 10, else s * (1 + max(0, N(0.1,
//                 0.05))) (seeded); else estimate: over sizes with >= 5
//                 samples, the points (mean_b + 3 sd_b, b) are fitted by
//                 ridge regression (lambda 1e-3), s = floor(fit(B)). It
//                 starts at lo (Clipper starts at 1).
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
  // The completed request itself (peers that keep per-size statistics).
  double last_request_latency_ms = 0;
  std::size_t batch_items = 0;
  bool ok = false;
};

/// How a training-sample window ended (what learning strategies may do).
struct window_state {
  /// At least twice the size was waiting at the close.
  bool backlog = false;
  /// A request budget is in play: the backend's configuration declares one
  /// or it answered 429 within the last 600 s.
  bool budget = false;
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
  virtual void next_window(const window_state& /*closed*/) {}

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
