#include "sim/backend.hpp"

#include <algorithm>
#include <cmath>

namespace batching::sim {

namespace {

duration ms(double x) { return from_seconds(x / 1000); }

std::vector<rate_limited_api::outage> outages_of(const backend_spec& spec) {
  std::vector<rate_limited_api::outage> result;
  for (const auto& o : spec.outages)
    result.push_back({from_seconds(o.from_s), from_seconds(o.to_s), o.status});
  return result;
}

rate_limited_api::config api_config(const backend_spec& spec,
                                    const backend_params& p,
                                    std::uint64_t seed) {
  rate_limited_api::config c;
  c.budget = spec.budget;
  c.rate = p.rate;
  c.burst = std::max(1.0, p.burst);
  c.window_requests = static_cast<std::uint32_t>(p.window_requests);
  c.window_seconds = p.window_seconds;
  c.max_items_per_request = spec.max_items_per_request;
  c.max_payload_bytes = static_cast<std::uint64_t>(spec.max_payload_bytes);
  c.base_latency = ms(p.base_latency_ms);
  c.per_item_latency = ms(p.per_item_latency_ms);
  c.jitter_sigma = p.jitter_sigma;
  c.concurrency = static_cast<std::uint32_t>(p.concurrency);
  c.error_rate = p.error_rate;
  c.outages = outages_of(spec);
  c.headers = spec.headers;
  c.retry_after = spec.retry_after;
  c.tenant_share = p.tenant_share;
  c.tenant_period_s = p.tenant_period_s;
  c.seed = seed;
  return c;
}

database_api::config db_config(const backend_spec& spec,
                               const backend_params& p, std::uint64_t seed) {
  database_api::config c;
  c.max_items_per_request = spec.max_items_per_request;
  c.max_payload_bytes = static_cast<std::uint64_t>(spec.max_payload_bytes);
  c.base_latency_ms = p.base_latency_ms;
  c.item_cost_ms = p.item_cost_ms;
  c.contention = p.contention;
  c.overload_concurrency = p.overload_concurrency;
  c.overload_error_rate = p.overload_error_rate;
  c.jitter_sigma = p.jitter_sigma;
  c.error_rate = p.error_rate;
  c.outages = outages_of(spec);
  c.seed = seed;
  return c;
}

} // namespace

simulated_backend::simulated_backend(const backend_spec& spec,
                                     std::uint64_t seed, time_point start)
  : spec_(spec), start_(start), late_rng_(seed ^ 0x1a7e1a7e1a7e1a7eull) {
  std::stable_sort(
    spec_.changes.begin(), spec_.changes.end(),
    [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
  if (spec_.kind == backend_kind::database)
    db_ = std::make_unique<database_api>(db_config(spec_, spec_.params, seed),
                                         start);
  else
    api_ = std::make_unique<rate_limited_api>(
      api_config(spec_, spec_.params, seed), start);
}

backend_params simulated_backend::params_at(double at_s) const {
  auto p = spec_.params;
  for (const auto& c : spec_.changes)
    if (c.at_s <= at_s)
      p = overlay(p, c.set);
  return p;
}

void simulated_backend::apply_due_changes(time_point now) {
  auto at_s = to_seconds(now - start_);
  bool changed = false;
  while (next_change_ < spec_.changes.size()
         && spec_.changes[next_change_].at_s <= at_s) {
    ++next_change_;
    changed = true;
  }
  if (!changed)
    return;
  auto p = params_at(at_s);
  if (api_) {
    auto seed = api_->settings().seed;
    api_->reconfigure(api_config(spec_, p, seed), now);
  } else {
    db_->reconfigure(db_config(spec_, p, db_->settings().seed));
  }
}

delayed_answer simulated_backend::serve(const batch& b, time_point now) {
  apply_due_changes(now);
  ++requests_;
  if (over_caps(b, spec_.max_items_per_request,
                static_cast<std::uint64_t>(spec_.max_payload_bytes)))
    ++oversized_;
  auto a = api_ ? api_->serve(b, now) : db_->serve(b, now);
  if (a.outcome.status == batch_status::throttled)
    ++throttled_;
  if (a.outcome.status == batch_status::ok) {
    for (const auto& op : b.operations) {
      ++accepted_items_;
      if (!accepted_.insert(op.id).second)
        ++duplicated_;
    }
    // The work is done; the answer arrives after the client's timeout, or
    // (half the time) never.
    auto late = params_at(to_seconds(now - start_)).late_answer_rate;
    if (late > 0 && late_rng_.uniform() < late) {
      ++late_answers_;
      late_items_ += b.operations.size();
      a.lost = late_rng_.uniform() < 0.5;
      a.delay = std::max(a.delay, b.timeout + std::chrono::seconds{1});
    }
  }
  return a;
}

double simulated_backend::capacity(double at_s,
                                   double mean_payload_bytes) const {
  for (const auto& o : spec_.outages)
    if (at_s >= o.from_s && at_s < o.to_s)
      return 0;
  auto p = params_at(at_s);
  double per_request = spec_.max_items_per_request;
  if (mean_payload_bytes > 0)
    per_request = std::min(
      per_request, std::floor(spec_.max_payload_bytes / mean_payload_bytes));
  per_request = std::max(1.0, per_request);
  double ok_share = std::clamp(1 - p.error_rate, 0.0, 1.0);
  if (spec_.kind == backend_kind::database) {
    auto cfg = db_config(spec_, p, 0);
    double best = 0;
    for (double c = 1; c <= std::max(1.0, p.overload_concurrency); ++c)
      for (double n = 1; n <= per_request; n = std::ceil(n * 1.1))
        best
          = std::max(best, c * n * 1000 / database_api::latency_ms(cfg, n, c));
    return best * ok_share;
  }
  limiter budget{rate_limited_api::limiter_config(api_config(spec_, p, 0)),
                 start_};
  auto requests = budget.sustainable_rate() * (1 - p.tenant_share / 2);
  double cap = requests > 0 ? requests * per_request : 1e18;
  if (p.concurrency > 0)
    cap = std::min(
      cap, p.concurrency * per_request * 1000
             / (p.base_latency_ms + p.per_item_latency_ms * per_request));
  return cap * ok_share;
}

} // namespace batching::sim
