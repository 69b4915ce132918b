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

limiter::config rate_limited_api::limiter_config(const config& c) {
  limiter::config l;
  l.kind = c.budget;
  l.rate = c.rate;
  l.burst = c.burst;
  l.window_requests = c.window_requests;
  l.window_seconds = c.window_seconds;
  l.concurrency = c.concurrency;
  return l;
}

rate_limited_api::rate_limited_api(config cfg, time_point start)
  : cfg_(std::move(cfg)), start_(start), rng_(cfg_.seed),
    limiter_(limiter_config(cfg_), start), tenant_rng_(cfg_.seed ^ 0x7e4a47u),
    next_tenant_(start) {
  // nop
}

double rate_limited_api::tenants_weight(time_point t) const {
  auto phase = to_seconds(t - start_) / std::max(1.0, cfg_.tenant_period_s);
  return (1 - std::cos(2 * M_PI * phase)) / 2;
}

double rate_limited_api::tenants_peak() const {
  return cfg_.tenant_share * limiter_.sustainable_rate();
}

double rate_limited_api::tenants_rate(time_point t) const {
  return tenants_peak() * tenants_weight(t);
}

void rate_limited_api::run_tenants(time_point now) {
  auto peak = tenants_peak();
  if (peak <= 0)
    return;
  // Thinning: candidates at the peak rate, each kept with the share of
  // the peak that the varying rate has at its time. Others retry what was
  // refused (a backlog, bounded), before us: they spend their share
  // whatever we do.
  // They come back when there is room (as clients that honour
  // Retry-After): a refused retry would count against a limiter that
  // counts rejections.
  auto serve_backlog = [&](time_point t) {
    while (tenant_backlog_ > 0 && limiter_.has_room(t)
           && limiter_.admit(t).admitted) {
      --tenant_backlog_;
      ++tenant_accepted_;
    }
  };
  while (next_tenant_ <= now) {
    auto t = next_tenant_;
    next_tenant_
      += from_seconds(-std::log(std::max(tenant_rng_.uniform(), 1e-12)) / peak);
    if (tenant_rng_.uniform() < tenants_weight(t))
      tenant_backlog_ = std::min(tenant_backlog_ + 1, 100.0);
    serve_backlog(t);
  }
  serve_backlog(now);
}

rate_limit_advice rate_limited_api::advertise(time_point now) const {
  if (cfg_.headers == header_style::none)
    return {};
  auto s = limiter_.quota(now);
  if (!s)
    return {};
  // Headers carry a wall-clock time in one style: any fixed epoch will do.
  constexpr std::int64_t epoch = 1'700'000'000;
  auto unix_now = epoch + static_cast<std::int64_t>(to_seconds(now - start_));
  return read_rate_limit_headers(write_rate_limit_headers(cfg_.headers, s->q,
                                                          s->w, s->r, s->t,
                                                          unix_now),
                                 unix_now)
    .advice;
}

void rate_limited_api::reconfigure(const config& cfg, time_point now) {
  run_tenants(now);
  cfg_ = cfg; // the random stream continues: same seed, same run
  limiter_.reconfigure(limiter_config(cfg_), now);
}

duration rate_limited_api::latency_for(std::size_t items) {
  auto base = cfg_.base_latency
              + cfg_.per_item_latency * static_cast<std::int64_t>(items);
  auto factor = lognormal_factor(rng_, cfg_.jitter_sigma);
  return std::chrono::duration_cast<duration>(base * factor);
}

rate_limited_api::answer rate_limited_api::serve(const batch& b,
                                                 time_point now) {
  std::uint64_t bytes = 0;
  for (const auto& op : b.operations)
    bytes += op.payload.size();
  auto a = serve(b.operations.size(), bytes, now);
  a.outcome.batch_id = b.batch_id;
  return a;
}

rate_limited_api::answer rate_limited_api::serve(std::size_t items,
                                                 std::uint64_t bytes,
                                                 time_point now) {
  ++requests_;
  answer a;
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
  if (items > cfg_.max_items_per_request || bytes > cfg_.max_payload_bytes) {
    a.outcome.status = batch_status::permanent_failure;
    a.outcome.message = "HTTP 400: validation_error (request too large)";
    a.delay = cfg_.base_latency / 2;
    a.outcome.latency = a.delay;
    return a;
  }
  run_tenants(now);
  auto d = limiter_.admit(now);
  if (!d.admitted) {
    ++throttled_;
    a.outcome.status = batch_status::throttled;
    switch (cfg_.retry_after) {
      case retry_after_mode::rounded:
        a.outcome.retry_after = whole_seconds_up(to_seconds(d.retry_after));
        break;
      case retry_after_mode::exact:
        a.outcome.retry_after = d.retry_after;
        break;
      case retry_after_mode::absent: break;
    }
    a.outcome.advice = advertise(now);
    a.outcome.message = "HTTP 429: rate_limited";
    a.delay = cfg_.base_latency / 2;
    a.outcome.latency = a.delay;
    return a;
  }
  // Queue behind the requests being served when at the concurrency limit
  // (a concurrency budget answers 429 instead).
  auto begin = now + d.hold;
  while (!busy_until_.empty() && busy_until_.top() <= begin)
    busy_until_.pop();
  if (cfg_.budget != budget_kind::concurrency && cfg_.concurrency > 0
      && busy_until_.size() >= cfg_.concurrency) {
    begin = busy_until_.top();
    busy_until_.pop();
  }
  auto service = latency_for(items);
  busy_until_.push(begin + service);
  limiter_.finish_at(begin + service);
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
  accepted_items_ += items;
  return a;
}

} // namespace batching::sim
