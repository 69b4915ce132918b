#pragma once

// The seed's load tests, pure: the load over time (phases) and the
// comparison of measured figures with config/performance_targets.yaml.
//
// Phases (of the run's duration D, at a peak of P items/s split by the
// mix's shares): ramp from 0 to P over [0, 0.2 D); steady at P until
// 0.6 D; a spike at m P (m = the spike multiplier, the seed's "10x normal
// load" by default) until 0.75 D; steady at P to the end. Each type's
// stream is a `ramp` arrival process (runtime/policy/workload.hpp), which
// interpolates linearly between phase points, so the steps are points a
// millisecond apart.
//
// Targets: each key of performance_targets_config is `pass` when the
// measured figure meets it (at least the target for rates, throughput
// improvement, stability and load multiplier; at most for response times
// and adaptation), `fail` otherwise, and `not measured` when the run has
// no such figure (resource efficiency needs a baseline's resource use; an
// improvement needs a baseline run).
// Invariants: every target key appears once, in the file's order.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/settings.hpp"
#include "runtime/policy/workload.hpp"

namespace batching {

struct load_shape {
  double duration_s = 60;
  double peak_items_per_s = 100;
  double spike_multiplier = 10;
  std::map<std::string, double> mix{{"write", 0.5}, {"read", 0.5}};
  std::uint32_t users = 4; // per type, at least one
  std::uint32_t job_size = 10;
};

/// The phase a time falls in ("ramp", "steady", "spike").
std::string phase_at(const load_shape& s, double t);

/// One workload stream per type of the mix (shares need not sum to 1:
/// they are normalised), shaped by the phases above.
std::vector<workload_plan> seed_phases(const load_shape& s);

/// What a load test or simulation measured; unset: not measured.
struct measured_performance {
  std::optional<double> throughput_improvement_percent;
  std::optional<double> resource_efficiency_percent;
  std::optional<double> success_rate_without_throttling_percent;
  std::optional<double> average_response_time_ms;
  std::optional<double> p99_response_time_ms;
  std::optional<double> stability_percent;
  std::optional<double> adaptation_seconds;
  std::optional<double> load_multiplier;
};

enum class target_status : std::uint8_t { pass, fail, not_measured };

struct target_verdict {
  std::string key; // performance_targets.<key>
  bool at_least = true;
  double target = 0;
  std::optional<double> measured;
  target_status status = target_status::not_measured;
};

/// "pass", "fail" or "not_measured" (JSON).
const char* to_string(target_status s);

std::vector<target_verdict> check_targets(const performance_targets_config& t,
                                          const measured_performance& m);

/// "pass  p99_response_time_ms: 640.0 (target <= 1000)", for people.
std::string to_text(const target_verdict& v);

} // namespace batching
