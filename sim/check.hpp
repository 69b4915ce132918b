#pragma once

// Property-based runs around a user's own scenario (`batching check`,
// docs/simulation.md). Each case perturbs the scenario at random and runs
// it on the real actors in virtual time (run_strategy):
//   - the seed (the scenario's own, or another),
//   - every workload stream's rate, burst and job size by up to +-50 %,
//   - the backend's error rate by up to 10 points, and its late answer
//     rate by up to 5 (accepted, answered after the timeout or never),
//   - up to two outages (1-60 s inside the arrivals) that fail every
//     request or answer every one 429,
//   - up to two actor kills inside the arrivals (a batcher, all of them, the
//     gate or the executor; the supervisor restarts them),
//   - the strategy, from the list.
// and asserts the invariants (broken_invariant): nothing lost (against the
// backend's own record of ids too), nothing finished twice, nothing
// accepted twice by the backend beyond what late answers hid from the
// runtime, no request over the item or byte cap,
// every operation accounted for (succeeded + failed + unfinished =
// submitted), every killed actor restarted, and nothing unfinished where
// demand leaves room (ours, leaves_room); with require_slo, also the
// scenario's SLO. Kills widen the duplicates allowed by what was in flight
// when they struck (run_result::exposed_items). RapidCheck shrinks a
// failure towards the user's scenario (every perturbation towards none); the
// smallest failing scenario comes back to replay with `batching sim`. Same
// scenario, cases and seed: the same cases and verdict.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/runner.hpp"
#include "sim/scenario.hpp"

namespace batching::sim {

struct check_options {
  int cases = 20;
  std::uint64_t seed = 1;
  /// Strategies to draw from; empty: the scenario's list, else adaptive.
  std::vector<std::string> strategies;
  /// Also require the scenario's SLO (item latency p99) in every case.
  bool require_slo = false;
  /// Called before each run (a case, or a smaller one while shrinking).
  std::function<void(const std::string&)> progress;
};

struct check_outcome {
  bool passed = true;
  int cases = 0;           // cases that passed (all of them when passed)
  int shrinks = 0;         // smaller failing scenarios found while shrinking
  std::string failure;     // the invariant broken, with the figures
  scenario counterexample; // the smallest failing scenario (one strategy)
};

/// Runs `opts.cases` perturbed cases of `base`; throws std::invalid_argument
/// for an unknown strategy name.
check_outcome check_scenario(const scenario& base, const check_options& opts);

/// Whether `strategy` is one of ours (adaptive, ml): those must also
/// finish everything where demand leaves room.
bool is_ours(std::string_view strategy);

/// Whether demand leaves room to finish everything: at most half of what
/// the backend's budget carries over the arrivals (requests/s x items a
/// request holds, by count and by bytes). False where the budget has no
/// rate (a concurrency limit, the database backend).
bool leaves_room(const scenario& sc, std::uint64_t submitted);

/// The first invariant `r` breaks, with its figures, or "". `ours`: the
/// strategy is one of ours (adaptive, ml), which must also finish
/// everything where demand leaves room and every answer came in time (a
/// late one holds its request slot until the request timeout).
std::string broken_invariant(const scenario& sc, const run_result& r,
                             bool ours);

} // namespace batching::sim
