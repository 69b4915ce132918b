#include "sim/database_api.hpp"

#include <cmath>

namespace batching::sim {

database_api::database_api(config cfg, time_point start)
  : cfg_(std::move(cfg)), start_(start), rng_(cfg_.seed) {
  // nop
}

double database_api::latency_ms(const config& cfg, double n, double c) {
  return (cfg.base_latency_ms + cfg.item_cost_ms * std::pow(n, 0.8))
         * (1 + cfg.contention * std::max(0.0, c - 1));
}

delayed_answer database_api::serve(const batch& b, time_point now) {
  ++requests_;
  delayed_answer a;
  a.outcome.batch_id = b.batch_id;
  auto base = from_seconds(cfg_.base_latency_ms / 1000);
  auto since_start = now - start_;
  for (const auto& o : cfg_.outages)
    if (since_start >= o.from && since_start < o.to) {
      a.outcome.status = o.status;
      a.outcome.message = "database unavailable";
      if (o.status == batch_status::throttled)
        a.outcome.retry_after = std::chrono::seconds{1};
      a.delay = a.outcome.latency = base;
      ++failed_;
      return a;
    }
  if (over_caps(b, cfg_.max_items_per_request, cfg_.max_payload_bytes)) {
    a.outcome.status = batch_status::permanent_failure;
    a.outcome.message = "batch too large";
    a.delay = a.outcome.latency = base;
    ++failed_;
    return a;
  }
  while (!busy_until_.empty() && busy_until_.top() <= now)
    busy_until_.pop();
  auto concurrent = static_cast<double>(busy_until_.size() + 1);
  auto ms
    = latency_ms(cfg_, static_cast<double>(b.operations.size()), concurrent)
      * lognormal_factor(rng_, cfg_.jitter_sigma);
  a.delay = a.outcome.latency = from_seconds(ms / 1000);
  busy_until_.push(now + a.delay);
  bool overloaded = concurrent > cfg_.overload_concurrency
                    && rng_.uniform() < cfg_.overload_error_rate;
  if (overloaded || (cfg_.error_rate > 0 && rng_.uniform() < cfg_.error_rate)) {
    a.outcome.status = batch_status::retryable_failure;
    a.outcome.message
      = overloaded ? "overloaded: lock wait timeout" : "internal error";
    ++failed_;
    return a;
  }
  a.outcome.status = batch_status::ok;
  return a;
}

} // namespace batching::sim
