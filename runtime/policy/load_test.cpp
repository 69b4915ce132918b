#include "runtime/policy/load_test.hpp"

#include <algorithm>

#include "runtime/policy/text.hpp"

namespace batching {

namespace {

constexpr double ramp_end = 0.2, spike_start = 0.6, spike_end = 0.75;
constexpr double step = 0.001; // s between the two points of a step

} // namespace

std::string phase_at(const load_shape& s, double t) {
  auto f = s.duration_s > 0 ? t / s.duration_s : 0;
  if (f < ramp_end)
    return "ramp";
  if (f >= spike_start && f < spike_end)
    return "spike";
  return "steady";
}

std::vector<workload_plan> seed_phases(const load_shape& s) {
  double total = 0;
  for (const auto& [_, share] : s.mix)
    total += std::max(0.0, share);
  std::vector<workload_plan> plans;
  if (total <= 0)
    return plans;
  auto d = s.duration_s;
  for (const auto& [type, share] : s.mix) {
    if (share <= 0)
      continue;
    auto peak = s.peak_items_per_s * share / total;
    workload_plan w;
    w.op_type = type;
    w.arrival = arrival_kind::ramp;
    w.rate = 0;
    w.phases = {{ramp_end * d, peak},
                {spike_start * d, peak},
                {spike_start * d + step, s.spike_multiplier * peak},
                {spike_end * d, s.spike_multiplier * peak},
                {spike_end * d + step, peak},
                {d, peak}};
    w.job_size = std::max(1u, s.job_size);
    w.users = std::max(1u, s.users);
    plans.push_back(std::move(w));
  }
  return plans;
}

const char* to_string(target_status s) {
  switch (s) {
    case target_status::pass: return "pass";
    case target_status::fail: return "fail";
    default: return "not_measured";
  }
}

std::vector<target_verdict> check_targets(const performance_targets_config& t,
                                          const measured_performance& m) {
  std::vector<target_verdict> out;
  auto add = [&](const char* key, bool at_least, double target,
                 const std::optional<double>& measured) {
    target_verdict v{key, at_least, target, measured,
                     target_status::not_measured};
    if (measured)
      v.status = (at_least ? *measured >= target : *measured <= target)
                   ? target_status::pass
                   : target_status::fail;
    out.push_back(v);
  };
  add("throughput_improvement_percent", true, t.throughput_improvement_percent,
      m.throughput_improvement_percent);
  add("resource_efficiency_percent", true, t.resource_efficiency_percent,
      m.resource_efficiency_percent);
  add("success_rate_without_throttling_percent", true,
      t.success_rate_without_throttling_percent,
      m.success_rate_without_throttling_percent);
  add("average_response_time_ms", false, t.average_response_time_ms,
      m.average_response_time_ms);
  add("p99_response_time_ms", false, t.p99_response_time_ms,
      m.p99_response_time_ms);
  add("stability_percent", true, t.stability_percent, m.stability_percent);
  add("adaptation_seconds", false, t.adaptation_seconds, m.adaptation_seconds);
  add("load_multiplier", true, t.load_multiplier, m.load_multiplier);
  return out;
}

std::string to_text(const target_verdict& v) {
  const char* status = v.status == target_status::pass   ? "pass"
                       : v.status == target_status::fail ? "FAIL"
                                                         : "n/a ";
  std::string text = std::string{status} + "  " + v.key + ": ";
  if (!v.measured)
    return text + "not measured (target " + (v.at_least ? ">= " : "<= ")
           + format_number(v.target) + ")";
  return text + format_fixed(*v.measured, 1) + " (target "
         + (v.at_least ? ">= " : "<= ") + format_number(v.target) + ")";
}

} // namespace batching
