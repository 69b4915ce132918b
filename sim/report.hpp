#pragma once

// A simulation's results as JSON (the field names of issue #4, kept
// stable), a side-by-side text table, and a self-contained HTML report
// (inline SVG charts, no network).

#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "runtime/policy/load_test.hpp"
#include "sim/oracle.hpp"
#include "sim/runner.hpp"

namespace batching::sim {

struct sim_report {
  scenario sc;
  std::optional<oracle_result> oracle;
  std::vector<run_result> results;
  /// Include wall_s and sim_items_per_wall_s (the only fields that differ
  /// between two runs with the same seed).
  bool timing = true;
  /// A sentence under the report's heading (HTML), e.g. how it was run.
  std::string note;
  /// config/performance_targets.yaml: each result is compared with it
  /// (JSON: `performance_targets`; the table: the first result's verdicts).
  std::optional<performance_targets_config> targets;
  /// The run a throughput improvement is measured against, by strategy
  /// name (the seed's static baseline).
  std::string baseline = "static";
};

/// Verdicts as JSON: key, target, at_least, measured (3 decimals; null
/// when not measured), status (`batching sim`, `bench sweep`, `loadtest`).
boost::json::array to_json(const std::vector<target_verdict>& verdicts);

/// What a run measured in the targets' terms: throttling, p99, stability
/// (succeeded of everything submitted), adaptation (the slowest
/// convergence after a change) and, against `baseline` when given, the
/// throughput improvement; the rest is not measured in the simulator.
measured_performance measured_of(const run_result& r,
                                 const run_result* baseline);

/// Fills goodput_vs_oracle in every result (when there is an oracle).
void compare_with_oracle(sim_report& rep);

boost::json::value to_json(const sim_report& rep);

/// One row per strategy: goodput, vs oracle, 429s, p50/p99, SLO, lost.
std::string to_table(const sim_report& rep);

/// A self-contained HTML page: summary table and one SVG panel per metric
/// (goodput, request rate, batch size, in-flight, p99 latency) with every
/// strategy overlaid.
std::string to_html(const sim_report& rep);

/// Several scenarios on one self-contained page, one section each.
std::string to_html(const std::vector<sim_report>& reps);

} // namespace batching::sim
