#pragma once

// The virtual-time runner: the real topology (coordinator, batchers, gate,
// executor) against a scenario's simulated backend, fed by load generator
// actors, on CAF's deterministic scheduler. Time advances event by event;
// the same scenario, strategy and seed give the same result, byte for byte.
//
// Measures per run: submitted / succeeded / failed / lost / duplicated
// operations, requests and 429s, goodput (operations that succeeded by the
// end of the arrivals, per second), item latency percentiles (submission to
// final outcome, over every finished operation), convergence after each
// scheduled change, and a 1 s time series. After the drain, operations the
// coordinator still holds are `unfinished`; `lost` counts those neither
// finished (as seen by an observer of the coordinator) nor held, and those
// reported succeeded that the backend's own record of ids does not hold;
// `duplicated` counts operations the backend accepted more than once (its
// record) or the observer saw finish twice.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/messages.hpp"
#include "sim/scenario.hpp"
#include "sim/strategies.hpp"

namespace batching::sim {

struct series_point {
  double t_s = 0;
  double goodput = 0;  // operations that succeeded in this second
  double requests = 0; // requests the backend received in this second
  double throttled = 0;
  double p99_ms = 0; // of operations that finished in this second
  std::map<std::string, std::uint32_t> batch_size; // by operation type
  std::uint32_t in_flight = 0;                     // requests
  double request_rate = 0; // requests/s the flow controller allows
  std::uint64_t queued = 0;
  std::map<std::string, std::uint64_t> queued_by_type;

  /// A type's batch size and queue this second (0 when it had none).
  double batch_size_of(const std::string& type) const {
    auto it = batch_size.find(type);
    return it == batch_size.end() ? 0.0 : double(it->second);
  }
  double queued_of(const std::string& type) const {
    auto it = queued_by_type.find(type);
    return it == queued_by_type.end() ? 0.0 : double(it->second);
  }
};

/// One workload stream's figures.
struct stream_result {
  std::string op_type;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

struct run_result {
  std::string strategy;
  std::uint64_t submitted = 0;
  std::uint64_t rejected = 0; // in jobs the coordinator refused
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t unfinished = 0; // still queued after the drain
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0; // accepted by the backend more than once
  /// Accepted requests answered after the timeout or never, and the
  /// operations in them: the duplicates at least once allows.
  std::uint64_t late_answers = 0;
  std::uint64_t late_items = 0;
  /// The scenario's actor kills that hit a live actor, the supervisor's
  /// restarts, and the operations the killed could have had in flight (the
  /// gate's requests in flight at each kill, times the item cap): those
  /// may reach the backend twice.
  std::uint64_t actor_deaths = 0;
  std::uint64_t actor_restarts = 0;
  std::uint64_t exposed_items = 0;
  /// Operations an observer saw finish twice (in `duplicated` too): never
  /// allowed, late answers or not.
  std::uint64_t finished_twice = 0;
  std::uint64_t requests = 0;
  std::uint64_t throttled = 0;
  std::uint64_t oversized = 0; // requests over the item or byte cap
  double throttle_rate = 0;
  double goodput = 0;
  double goodput_vs_oracle = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  bool slo_met = false;
  /// Per scheduled change; nothing where goodput never settled.
  std::vector<std::optional<double>> convergence_s;
  double wall_s = 0;
  double sim_items_per_wall_s = 0;
  std::vector<series_point> series;
  std::vector<stream_result> streams; // by workload entry
  /// What the optimizer learned (strategies that learn: ml).
  std::optional<optimizer_insights> insights;
};

struct run_options {
  bool series = true; // record the 1 s time series
  /// Real time on the threaded scheduler (load tests, the demo) instead of
  /// virtual time; the same actors and metrics, but not deterministic.
  bool real_time = false;
  /// Called after each second with (now_s, total_s, that second's point;
  /// its goodput is the items the backend accepted in it).
  std::function<void(double, double, const series_point&)> progress;
};

/// Runs one strategy through the scenario.
run_result run_strategy(const scenario& sc, const strategy_spec& s,
                        const run_options& opts = {});

/// Times (s) of the scenario's scheduled changes inside the run: backend
/// changes, outage ends and workload phases, sorted.
std::vector<double> change_times(const scenario& sc);

} // namespace batching::sim
