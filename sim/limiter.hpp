#pragma once

// The limiter zoo: how real rate limiters count (../shared/docs/limiters.md),
// each a pure model in virtual time (it takes `now`). The simulated API
// (rate_limited_api.hpp) asks it whether a request is admitted; strategies
// only ever see the API's answers.
//
// Models (N = window_requests, W = window_seconds, r = rate, b = burst,
// c = concurrency):
//   token_bucket     tokens = min(b, tokens + r dt); admit iff tokens >= 1
//                    (takes one). Truth: (1 - tokens) / r until the next.
//   fixed_window     count per aligned window [kW, (k+1)W); admit iff < N.
//                    Truth: until the window ends.
//   sliding_log      timestamps of accepted requests in (now - W, now];
//                    admit iff fewer than N. Truth: until the oldest
//                    leaves.
//   sliding_counter  Cloudflare's estimate: e = prev (1 - f) + cur, f the
//                    share of the current aligned window gone; admit iff
//                    e + 1 <= N. Truth: the f (or the next window's) at
//                    which that holds again. Sustains max(N - 1, N / 2)
//                    per W, not N (sustainable_rate()).
//   counting_log     as sliding_log, but every request is logged, rejected
//                    or not: admit iff fewer than N requests of any outcome
//                    in the last W (hammering keeps it shut).
//   counting_counter as sliding_counter, but a rejected request counts too
//                    (HAProxy: `track-sc0` counts http_req_rate(W) before
//                    `deny if { sc_http_req_rate(0) gt N }` reads it).
//   nginx_delay      nginx limit_req without nodelay: excess x (requests),
//                    x' = max(0, x - r dt) + 1; rejected iff x' > b + 1
//                    (x unchanged), else admitted and held x' - 1 over r
//                    seconds before it is served (its answer that much
//                    later). Truth: until x' would fit.
//   concurrency      admit iff fewer than c admitted requests are still
//                    being served (finish() tells when each ends). Truth:
//                    until the first ends.
//   unlimited        admits everything (the API's queueing does the rest).
// Invariants (tests/sim/limiter_test.cpp): bucket, nginx: at most b + r T
// (nginx: b + 1 + r T) admitted in any span of T; fixed_window and
// sliding_counter, counting_counter: at most N per aligned window; sliding_log
// and counting_log: at most N admitted in any span shorter than W; concurrency:
// never more than c being served.

#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

#include "runtime/policy/types.hpp"
#include "sim/kinds.hpp"

namespace batching::sim {

class limiter {
public:
  struct config {
    budget_kind kind = budget_kind::token_bucket;
    double rate = 3;                     // token_bucket, nginx_delay
    double burst = 3;                    // token_bucket, nginx_delay
    std::uint32_t window_requests = 180; // the window kinds: N ...
    double window_seconds = 60;          // ... per W seconds
    std::uint32_t concurrency = 4;       // concurrency
  };

  struct decision {
    bool admitted = false;
    /// Admitted: how long it is held before it is served (nginx_delay).
    duration hold{0};
    /// Rejected: the exact time until a request would be admitted.
    duration retry_after{0};
  };

  /// What the limiter would advertise (q per w s, r left, t s to reset);
  /// nothing for kinds without a request quota.
  struct quota_state {
    double q = 0, w = 0, r = 0, t = 0;
  };

  limiter(config cfg, time_point start);

  /// A request arriving at `now`.
  decision admit(time_point now);

  /// Whether a request at `now` would be admitted (counts nothing).
  bool has_room(time_point now) const;

  /// An admitted request is served until `end` (concurrency counts it).
  void finish_at(time_point end);

  std::optional<quota_state> quota(time_point now) const;

  /// Requests/s it admits in the long run, at most (the budget); 0 where
  /// that depends on the service time (concurrency, unlimited). Below the
  /// documented rate for the counters: max(N - 1, N / 2) / W.
  double sustainable_rate() const;

  /// Requests/s its operator documents: N / W or r (what a client is told).
  double documented_rate() const;

  /// The counting span in seconds: the window, or the bucket's refill
  /// horizon (burst / rate); 0 where none applies.
  double window_s() const;

  /// New parameters from `now` on (a bucket keeps its tokens up to the new
  /// capacity; windows keep their counts).
  void reconfigure(const config& cfg, time_point now);

  const config& settings() const { return cfg_; }

private:
  /// Requests it would still admit at `now` (fractional for buckets and
  /// the sliding counter's estimate); quota kinds only.
  double left(time_point now) const;
  void refill(time_point now);
  void forget_before(std::deque<time_point>& log, time_point now) const;
  /// Aligned window index of `now` (fixed_window, sliding_counter).
  std::int64_t window_index(time_point now) const;
  void roll_windows(time_point now);

  config cfg_;
  time_point start_;
  double tokens_;          // token_bucket
  double excess_ = 0;      // nginx_delay
  time_point refilled_at_; // token_bucket, nginx_delay
  std::int64_t index_ = 0; // fixed_window, sliding_counter
  std::uint32_t count_ = 0;
  std::uint32_t previous_count_ = 0;
  std::deque<time_point> log_; // sliding_log, counting_log
  std::priority_queue<time_point, std::vector<time_point>,
                      std::greater<time_point>>
    busy_until_; // concurrency
};

} // namespace batching::sim
