#include "sim/rate_limited_api.hpp"

#include <algorithm>
#include <cmath>

namespace batching::sim {

namespace {

/// Whole seconds, rounded up (Retry-After is an integer).
duration whole_seconds_up(double seconds) {
  return std::chrono::seconds{
    static_cast<std::int64_t>(std::ceil(std::max(0.0, seconds) - 1e-9))};
}

} // namespace

bool over_caps(const batch& b, std::uint64_t max_items,
               std::uint64_t max_bytes) {
  std::uint64_t bytes = 0;
  for (const auto& op : b.operations)
    bytes += op.payload.size();
  return b.operations.size() > max_items || bytes > max_bytes;
}

double lognormal_factor(seeded_random& rng, double sigma) {
  auto u1 = std::max(rng.uniform(), 1e-12);
  auto u2 = rng.uniform();
  auto normal = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  return std::exp(sigma * normal);
}

rate_limited_api::rate_limited_api(config cfg, time_point start)
  : cfg_(std::move(cfg)), start_(start), rng_(cfg_.seed), tokens_(cfg_.burst),
    refilled_at_(start) {
  // nop
}

bool rate_limited_api::take_token(time_point now, duration& retry_after) {
  if (cfg_.budget == budget_kind::token_bucket) {
    tokens_ = std::min(cfg_.burst,
                       tokens_ + to_seconds(now - refilled_at_) * cfg_.rate);
    refilled_at_ = now;
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return true;
    }
    retry_after = whole_seconds_up((1 - tokens_) / cfg_.rate);
    return false;
  }
  auto elapsed = to_seconds(now - start_);
  auto index = static_cast<std::int64_t>(elapsed / cfg_.window_seconds);
  if (index != window_index_) {
    window_index_ = index;
    window_count_ = 0;
  }
  if (window_count_ < cfg_.window_requests) {
    ++window_count_;
    return true;
  }
  retry_after = whole_seconds_up((index + 1) * cfg_.window_seconds - elapsed);
  return false;
}

rate_limit_advice rate_limited_api::advertise(time_point now) const {
  if (cfg_.headers == header_style::none)
    return {};
  // Headers carry a wall-clock time in one style: any fixed epoch will do.
  constexpr std::int64_t epoch = 1'700'000'000;
  auto elapsed = to_seconds(now - start_);
  double q, w, r, t;
  if (cfg_.budget == budget_kind::token_bucket) {
    // The long-run rate as a quota per window of whole seconds, long
    // enough to hold the burst and q >= 100 (servers send integers: a
    // short window would round the rate away).
    w = std::ceil(std::max(cfg_.burst, 100.0) / cfg_.rate);
    q = cfg_.rate * w;
    r = tokens_;
    t = (cfg_.burst - tokens_) / cfg_.rate;
  } else {
    auto index = static_cast<std::int64_t>(elapsed / cfg_.window_seconds);
    q = cfg_.window_requests;
    w = cfg_.window_seconds;
    r = index == window_index_ ? q - window_count_ : q;
    t = (index + 1) * cfg_.window_seconds - elapsed;
  }
  auto unix_now = epoch + static_cast<std::int64_t>(elapsed);
  return read_rate_limit_headers(
           write_rate_limit_headers(cfg_.headers, q, w, r, t, unix_now),
           unix_now)
    .advice;
}

void rate_limited_api::reconfigure(const config& cfg, time_point now) {
  if (cfg_.budget == budget_kind::token_bucket)
    tokens_ = std::min(cfg_.burst,
                       tokens_ + to_seconds(now - refilled_at_) * cfg_.rate);
  refilled_at_ = now;
  cfg_ = cfg; // the random stream continues: same seed, same run
  tokens_ = std::min(tokens_, cfg_.burst);
}

duration rate_limited_api::latency_for(std::size_t items) {
  auto base = cfg_.base_latency
              + cfg_.per_item_latency * static_cast<std::int64_t>(items);
  auto factor = lognormal_factor(rng_, cfg_.jitter_sigma);
  return std::chrono::duration_cast<duration>(base * factor);
}

rate_limited_api::answer rate_limited_api::serve(const batch& b,
                                                 time_point now) {
  ++requests_;
  answer a;
  a.outcome.batch_id = b.batch_id;
  auto since_start = now - start_;
  for (const auto& o : cfg_.outages)
    if (since_start >= o.from && since_start < o.to) {
      a.outcome.status = o.status;
      a.outcome.message = "HTTP 503: service unavailable";
      if (o.status == batch_status::throttled) {
        a.outcome.message = "HTTP 529: service_overload";
        a.outcome.retry_after
          = whole_seconds_up(std::min(60.0, to_seconds(o.to - since_start)));
      }
      a.delay = cfg_.base_latency;
      a.outcome.latency = a.delay;
      return a;
    }
  if (over_caps(b, cfg_.max_items_per_request, cfg_.max_payload_bytes)) {
    a.outcome.status = batch_status::permanent_failure;
    a.outcome.message = "HTTP 400: validation_error (request too large)";
    a.delay = cfg_.base_latency / 2;
    a.outcome.latency = a.delay;
    return a;
  }
  duration retry_after{0};
  if (!take_token(now, retry_after)) {
    ++throttled_;
    a.outcome.status = batch_status::throttled;
    a.outcome.retry_after = retry_after;
    a.outcome.advice = advertise(now);
    a.outcome.message = "HTTP 429: rate_limited";
    a.delay = cfg_.base_latency / 2;
    a.outcome.latency = a.delay;
    return a;
  }
  // Queue behind the requests being served when at the concurrency limit.
  auto begin = now;
  while (!busy_until_.empty() && busy_until_.top() <= now)
    busy_until_.pop();
  if (cfg_.concurrency > 0 && busy_until_.size() >= cfg_.concurrency) {
    begin = busy_until_.top();
    busy_until_.pop();
  }
  auto service = latency_for(b.operations.size());
  busy_until_.push(begin + service);
  a.delay = (begin - now) + service;
  a.outcome.latency = a.delay;
  a.outcome.advice = advertise(now);
  if (cfg_.error_rate > 0 && rng_.uniform() < cfg_.error_rate) {
    a.outcome.status = batch_status::retryable_failure;
    a.outcome.message = "HTTP 500: internal error";
    return a;
  }
  a.outcome.status = batch_status::ok;
  ++accepted_;
  accepted_items_ += b.operations.size();
  return a;
}

} // namespace batching::sim
