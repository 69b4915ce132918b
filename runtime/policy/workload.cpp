#include "runtime/policy/workload.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace batching {

namespace {

constexpr double never = std::numeric_limits<double>::infinity();

} // namespace

arrival_process::arrival_process(workload_plan plan, std::uint32_t user,
                                 std::uint64_t seed, std::uint64_t id_base)
  : plan_(std::move(plan)), rng_(seed * 0x9e3779b97f4a7c15ull + user + 1),
    next_id_(id_base) {
  plan_.users = std::max<std::uint32_t>(1, plan_.users);
  plan_.job_size = std::max<std::uint32_t>(1, plan_.job_size);
  std::stable_sort(
    plan_.phases.begin(), plan_.phases.end(),
    [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
  next_burst_ = plan_.burst_every_s;
}

double arrival_process::rate_at(double t) const {
  double rate = plan_.rate;
  double from_t = 0;
  for (const auto& p : plan_.phases) {
    if (p.at_s > t) {
      if (plan_.arrival == arrival_kind::ramp && p.at_s > from_t)
        return rate + (p.rate - rate) * (t - from_t) / (p.at_s - from_t);
      return rate;
    }
    rate = p.rate;
    from_t = p.at_s;
  }
  return rate;
}

double arrival_process::next_boundary(double t) const {
  for (const auto& p : plan_.phases)
    if (p.at_s > t)
      return p.at_s;
  return never;
}

double arrival_process::max_rate_after(double t) const {
  double m = rate_at(t);
  for (const auto& p : plan_.phases)
    if (p.at_s > t)
      m = std::max(m, p.rate);
  return m;
}

priority arrival_process::draw_priority() {
  const auto& m = plan_.priorities;
  double total = m.critical + m.high + m.normal + m.low;
  if (total <= 0)
    return priority::normal;
  double x = rng_.uniform() * total;
  if ((x -= m.critical) < 0)
    return priority::critical;
  if ((x -= m.high) < 0)
    return priority::high;
  if ((x -= m.normal) < 0)
    return priority::normal;
  return priority::low;
}

std::vector<operation> arrival_process::make_ops(std::size_t n) {
  std::vector<operation> ops;
  ops.reserve(n);
  auto lo = std::max(0.0, plan_.payload_bytes.min_bytes);
  auto hi = std::max(lo, plan_.payload_bytes.max_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    auto bytes = static_cast<std::size_t>(std::llround(rng_.uniform(lo, hi)));
    ops.push_back({next_id_++, std::string(bytes, 'x')});
  }
  return ops;
}

arrival arrival_process::next() {
  double users = plan_.users;
  double job = plan_.job_size;
  // Finish a burst first: its jobs arrive at once.
  if (burst_left_ > 0) {
    auto n = std::min<std::size_t>(burst_left_, plan_.job_size);
    burst_left_ -= n;
    return {t_, draw_priority(), make_ops(n)};
  }
  double t = t_;
  for (;;) {
    // A ramp's rate is continuous: thinning handles it without boundaries.
    double boundary
      = plan_.arrival == arrival_kind::ramp ? never : next_boundary(t);
    double gap = never;
    if (plan_.arrival == arrival_kind::ramp) {
      // Thinning: candidates at the highest rate ahead, kept with
      // probability rate(t) / max.
      double peak = max_rate_after(t) / (users * job);
      if (peak <= 0)
        return {never, priority::normal, {}};
      for (;;) {
        t += -std::log(std::max(rng_.uniform(), 1e-12)) / peak;
        if (rng_.uniform() * peak <= rate_at(t) / (users * job))
          break;
        if (max_rate_after(t) <= 0) // the rate fell to 0 for good
          return {never, priority::normal, {}};
      }
      gap = 0;
    } else {
      double jobs_per_s = rate_at(t) / (users * job);
      if (jobs_per_s > 0)
        gap = plan_.arrival == arrival_kind::constant
                ? 1 / jobs_per_s
                : -std::log(std::max(rng_.uniform(), 1e-12)) / jobs_per_s;
    }
    double candidate = t + gap;
    // A burst shared by more users than it has items is no burst.
    bool bursting = plan_.arrival == arrival_kind::bursts
                    && std::llround(plan_.burst_items / users) > 0;
    if (bursting && next_burst_ <= candidate && next_burst_ <= boundary) {
      t_ = next_burst_;
      next_burst_ += plan_.burst_every_s;
      burst_left_
        = static_cast<std::size_t>(std::llround(plan_.burst_items / users));
      return next();
    }
    if (candidate <= boundary) {
      t_ = candidate;
      return {t_, draw_priority(), make_ops(plan_.job_size)};
    }
    if (boundary == never)
      return {never, priority::normal, {}};
    t = boundary; // the rate changes: draw again from there
  }
}

} // namespace batching
