#pragma once

// Rejection cap: a throttled request costs the limiter too (it answers
// it, and a counting limiter charges it to the client's budget), so a
// client blocked by it must not send more refused requests per second
// than the rate the limiter has shown it accepts (docs/benchmarks.md: the
// storm goal, throttled requests per second over any 10 s at most the
// budget's rate).
//
// Algorithm. Over a span S = 10 s and a horizon H = 30 s:
//   a(t) = (requests accepted in (t - H, t] + p) / max(S, min(H, t - the
//          first accepted one)), p the requests still in flight (they may
//          be accepted: with 2 s latencies the answers lag the sends, and
//          a concurrency limit of 159/s read from its first two answers
//          held its probes 10 s apart); spread over at least S: one
//          request let through at the start says no more than "one per S";
//   A(t) = max(1, S x a(t))     (refused requests allowed per span);
//   k(t) = the refused requests sent in (t - S, t];
//   the next probe of a block may leave at the earliest t' >= t with
//   k(t') + 1 <= A(t) (should it be refused too). Nothing accepted yet:
//   no bound (no rate to hold it to).
// Only the pacer's block probes wait for it (a 429, nothing accepted
// since; with Retry-After, as the block's backoff, from its second 429
// on): those requests are known to meet a shut limiter. Held at every
// send instead, the pacer took the pause for the limiter's pace (a
// counter of 0.5/s measured at 0.09/s after one); held at every send of
// a block with Retry-After too (where probes go at r after it),
// concurrency limits fell to 0.01-0.05x their goodput
// (docs/benchmarks.md).
// Inputs: answers with their send time and status; `now` and the
// requests in flight on queries. Pure: no clock.
// Invariant: next_probe(now, p) is within [now, now + S].

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "runtime/policy/types.hpp"

namespace batching {

class rejection_cap {
public:
  /// An answer to a request sent at `sent`: accepted or throttled.
  void on_answer(time_point sent, bool throttled);

  /// The earliest time from `now` the block's next probe may leave, with
  /// `pending` requests still in flight.
  time_point next_probe(time_point now, std::uint32_t pending);

  /// Send times kept (bounded by the span and the horizon).
  std::size_t kept() const { return refused_.size() + accepted_.size(); }

private:
  void forget(time_point now);

  std::deque<time_point> refused_;  // send times, over the span
  std::deque<time_point> accepted_; // send times, over the horizon
  std::optional<time_point> first_accepted_;
};

} // namespace batching
