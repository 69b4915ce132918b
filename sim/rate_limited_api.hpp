#pragma once

// A Notion-like rate-limited API as a pure, seeded model (virtual time: it
// takes `now`): what it answers to one request and after how long. The
// simulated backend actor and the tests drive it; strategies never see its
// parameters, only its answers.
//
// Model.
//   Budget: one of the limiter zoo's models (limiter.hpp: token bucket,
//     fixed window, sliding log or counter, a log that counts rejections,
//     nginx's delaying leaky bucket, a concurrency limit, or none). A
//     request over budget gets 429 with a Retry-After per `retry_after`:
//     the limiter's exact time until a request would pass, rounded up to
//     whole seconds, or nothing.
//   Other tenants (`tenant_share` s > 0, rate-counting kinds): requests
//     of other clients arrive Poisson at s * rate * (1 - cos(2 pi t / P)) /
//     2 (P = tenant_period_s; on average s / 2 of the budget) and count
//     against the same limiter; refused ones retry before our next request
//     (a backlog of at most 100): they spend their share whatever we do.
//   Caps: more than max_items_per_request operations, or more than
//     max_payload_bytes of payload, fail the whole request permanently
//     (HTTP 400-like validation_error).
//   Outages: inside an outage window every request answers `status`
//     after the base latency: 503-like (retryable), or 429/529-like
//     (throttled, Retry-After = the rest of the outage, at most 60 s).
//   Errors: with probability error_rate an accepted request fails
//     retryably (500-like).
//   Latency: (base + per_item * n) * lognormal jitter (sigma), plus queueing
//     when `concurrency` requests are already being served.
//   Headers (`headers`, a style of rate_limit_headers.hpp or none): every
//     answer past the caps advertises the limiter's quota (limiter::quota)
//     as text, read back by the same parser the HTTP executor uses.
// Invariants: accepted requests never exceed the budget in any window;
// the same seed and inputs give the same answers.

#include <cstdint>
#include <queue>
#include <vector>

#include "runtime/policy/random.hpp"
#include "runtime/policy/rate_limit_headers.hpp"
#include "runtime/policy/types.hpp"
#include "sim/delayed_answer.hpp"
#include "sim/kinds.hpp"
#include "sim/limiter.hpp"

namespace batching::sim {

class rate_limited_api {
public:
  struct outage {
    duration from{0};
    duration to{0};
    batch_status status = batch_status::retryable_failure;
  };

  struct config {
    budget_kind budget = budget_kind::token_bucket;
    double rate = 3;                     // token bucket: tokens/s
    double burst = 3;                    // token bucket: capacity
    std::uint32_t window_requests = 180; // window kinds: requests ...
    double window_seconds = 60;          // ... per window
    retry_after_mode retry_after = retry_after_mode::rounded;
    double tenant_share = 0;     // others' peak share of the budget
    double tenant_period_s = 60; // ... varying with this period
    std::uint32_t max_items_per_request = 100;
    std::uint64_t max_payload_bytes = 500'000;
    duration base_latency = std::chrono::milliseconds{150};
    duration per_item_latency = std::chrono::milliseconds{2};
    double jitter_sigma = 0.2;
    // Served at once, more queue (0: unlimited); budget `concurrency`:
    // the limit, more are answered 429 instead.
    std::uint32_t concurrency = 0;
    double error_rate = 0;
    std::vector<outage> outages; // relative to the start time
    header_style headers = header_style::none;
    std::uint64_t seed = 1;
  };

  using answer = delayed_answer;

  rate_limited_api(config cfg, time_point start);

  /// Changes the parameters from `now` on (the bucket keeps the tokens it
  /// had earned at the old rate, up to the new capacity).
  void reconfigure(const config& cfg, time_point now);

  const config& settings() const { return cfg_; }

  /// Serves one request arriving at `now`.
  answer serve(const batch& b, time_point now);

  /// The same for a request of `items` operations and `bytes` of payload
  /// (callers that count items instead of carrying them).
  answer serve(std::size_t items, std::uint64_t bytes, time_point now);

  const limiter& budget() const { return limiter_; }

  /// The limiter settings within `c`.
  static limiter::config limiter_config(const config& c);

  /// Requests of other tenants admitted so far.
  std::uint64_t tenant_accepted() const { return tenant_accepted_; }

  /// Other tenants' mean requests/s at `t` (the truth: only a reference
  /// that knows it, oracle_tenants in the zoo, may read it).
  double tenants_rate(time_point t) const;

  std::uint64_t requests() const { return requests_; }
  std::uint64_t throttled() const { return throttled_; }
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t accepted_items() const { return accepted_items_; }

private:
  /// What the answer's headers say at `now` (after this request counted).
  rate_limit_advice advertise(time_point now) const;
  duration latency_for(std::size_t items);
  /// Other tenants' requests up to `now`.
  void run_tenants(time_point now);
  /// Other tenants' requests/s at the peak of their period.
  double tenants_peak() const;
  /// The share of their peak rate other tenants spend at `t`.
  double tenants_weight(time_point t) const;

  config cfg_;
  time_point start_;
  seeded_random rng_;
  limiter limiter_;
  seeded_random tenant_rng_;
  time_point next_tenant_;
  std::uint64_t tenant_accepted_ = 0;
  double tenant_backlog_ = 0;
  std::priority_queue<time_point, std::vector<time_point>,
                      std::greater<time_point>>
    busy_until_;
  std::uint64_t requests_ = 0;
  std::uint64_t throttled_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t accepted_items_ = 0;
};

/// Whether a request exceeds an API's item or payload-byte cap (the
/// backend answers it 400-like, whole).
bool over_caps(const batch& b, std::uint64_t max_items,
               std::uint64_t max_bytes);

/// exp(sigma * N(0, 1)) (Box-Muller): lognormal jitter with median 1.
double lognormal_factor(seeded_random& rng, double sigma);

} // namespace batching::sim
