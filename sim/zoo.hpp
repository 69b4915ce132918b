#pragma once

// The limiter zoo bench (`batching bench zoo`): random (backend, workload,
// client knowledge) draws from documented ranges (docs/simulation.md), each
// run by every strategy in virtual time, scored against the budget the
// draw allows.
//
// Draws (seeded; log-uniform where a range spans decades):
//   limiter: one of the eight budget kinds (limiter.hpp), uniform; rate
//     0.5-100 requests/s (log), burst 1-50 (log), windows 1-60 s (log) with
//     N = max(1, round(rate W)), concurrency 1-20 (log); other tenants on a
//     quarter of the rate-counting draws (peak share 10-60%, period
//     30-300 s); Retry-After rounded, exact or absent (uniform); headers:
//     none on half, else one of the five styles (never on concurrency and
//     unlimited, which have no quota);
//   requests: item cap 10-1,000 (log); latency base 10 ms-2 s (log) plus
//     per item base * U(0, 2) / cap (a full request up to 3x base),
//     lognormal jitter sigma 0.2;
//   demand: 30-300% of the budget (log), steady (Poisson-like per 100 ms),
//     bursty (every 10-60 s at once) or stepped (0.5x, 1.5x, 1x of the mean
//     per third of the run); 600 s;
//   client: told no rate, the right one, 2x too high or 2x too low
//     (uniform); 32 requests in flight; SLO p99 = max(2 s, 4 x a full
//     request's latency).
// Budget (the truth, used only to score and for the oracle): requests/s =
//   the limiter's long-run rate less the other tenants' mean share, or
//   concurrency / a full request's latency (concurrency, unlimited), at
//   most 32 / that latency; items/s = that x the item cap.
// The client (runtime_config_for, as for `batching sim`) knows the item
// cap and the SLO. The loop is the gate and batcher of one operation type
// in aggregate, driving the same policy classes (flow controllers,
// batch-size strategies): items arrive in chunks, a batch leaves when the
// strategy's size is queued or the oldest waited the linger and the flow
// controller grants it; 429s return items to the front, timeouts and 5xx
// to the back (a timed-out request the backend accepted is delivered
// again: `duplicated`). `ml` is not in the zoo (its model lives in the
// optimizer actor; `batching sim` measures it).
// Metrics per run: goodput (items succeeded / 600 s); budget_use = goodput
// / the most the budget allows (a fluid server at the budget's items/s
// behind the same arrivals; stepped demand's first third stays below it),
// where demand's mean reaches the budget; throttle_rate
// (429s / requests); time_to_90pct_s = the earliest t with goodput over
// [t, t + S) >= 90% of the budget, S = max(5 s, the limiter's window) (draws
// whose demand reaches the budget from the start: steady and bursty);
// storm_ratio = the most 429s in any 10 s / 10 / budget requests/s; p99
// item latency (items still queued at the end count with their age);
// lost = submitted - succeeded - failed - still held.
// "Better" (docs/benchmarks.md): acceptable (<= 1% throttled, storm_ratio
// <= 1, nothing lost) where the other is not, else > 1% more goodput, else
// within 1% a p99 lower by more than 1%.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/enum_names.hpp"
#include "runtime/policy/settings.hpp"
#include "sim/rate_limited_api.hpp"

namespace batching::sim {

enum class demand_shape : std::uint8_t { steady, bursty, stepped };
enum class client_knowledge : std::uint8_t { none, right, high, low };

struct zoo_draw {
  std::size_t index = 0;
  rate_limited_api::config api;
  double duration_s = 600;
  demand_shape shape = demand_shape::steady;
  double demand = 0;         // mean items/s
  double burst_every_s = 30; // bursty
  client_knowledge knowledge = client_knowledge::none;
  double declared_rate = 0; // what the client is told (0: nothing)
  double slo_p99_ms = 2000;
  std::uint32_t max_in_flight = 32;
  std::uint64_t seed = 1;
  // The truth (scoring and the oracle only).
  double budget_requests = 0; // requests/s
  double budget_items = 0;    // items/s
};

/// `n` draws from the documented ranges, seeded.
std::vector<zoo_draw> draw_zoo(std::uint64_t seed, std::size_t n);

struct zoo_strategy {
  std::string name;
  strategy_kind sizing = strategy_kind::adaptive;
  flow_kind flow = flow_kind::pacer;
  bool cap_sized = false;   // static batches of the item cap
  bool unpaced = false;     // ignores what the client is told (rate 0)
  double initial_limit = 0; // netflix_aimd's starting limit (0: 20)
  bool oracle = false;      // knows the budget: the best of static rates at
                            // 80, 90, 95 and 100% of it, cap-sized
  // A reference beyond any client (opt-in: `--strategies oracle_tenants`):
  // also knows the other tenants' mean rate at each instant, paces at a
  // share of the budget it leaves, the best of shares 0.3-1.0.
  bool knows_tenants = false;
};

/// Ours (adaptive first: the default), the seed's static baseline, each
/// flow peer at the item cap and behind our sizing (`+sizing`), the
/// netflix_aimd variant starting at 1, Clipper's sizing behind our pacer,
/// oracle_tenants (opt-in, not in `all`) and the oracle (last).
const std::vector<zoo_strategy>& zoo_strategies();

struct zoo_run {
  std::size_t draw = 0;
  std::size_t replica = 0; // 0: the draw as drawn; k: reseeded(draw, k)
  std::string strategy;
  double goodput = 0;
  std::optional<double> budget_use;
  double throttle_rate = 0;
  std::optional<double> time_to_90pct_s;
  double storm_ratio = 0;
  double p99_ms = 0;
  bool slo_met = false;
  std::uint64_t submitted = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t unfinished = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t requests = 0;
  std::uint64_t throttled = 0;
  /// Learning strategies (`ml`): training samples closed, and windows
  /// whose prediction was confident enough to advise sizing.
  std::uint64_t samples = 0;
  std::uint64_t advised = 0;
  /// Stopped at 1,000,000 requests (a retry storm): the metrics cover the
  /// time until then, goodput and budget use that time's.
  bool truncated = false;
};

/// One second of a run (for inspecting one; not in the JSON).
struct zoo_second {
  double requests = 0, throttled = 0, goodput = 0, rate = 0, queued = 0;
};

zoo_run run_zoo(const zoo_draw& d, const zoo_strategy& s,
                std::vector<zoo_second>* series = nullptr);

/// Whether `a` is better than `b` on the same draw (the rule above).
bool zoo_better(const zoo_run& a, const zoo_run& b);

/// Acceptable: <= 1% throttled, no storm, nothing lost.
bool zoo_acceptable(const zoo_run& r);

struct distribution {
  std::size_t n = 0;
  double p10 = 0, median = 0, p90 = 0;
};

/// p10, median and p90 (nearest rank) of `xs`.
distribution distribution_of(std::vector<double> xs);

struct zoo_summary {
  std::string strategy;
  distribution budget_use;
  distribution throttle_rate;
  distribution time_to_90pct_s;
  distribution p99_vs_oracle;
  double zero_throttle_share = 0; // draws without a single 429
  double storm_free_share = 0;    // draws with storm_ratio <= 1
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  /// Share of draws on which this one is better than each other strategy.
  std::map<std::string, double> better_than;
};

/// Draw `d` with its random streams (latency jitter, demand noise, other
/// tenants' phase, the client's seeds) reseeded for replica `k` (0: `d`
/// itself): the same backend, workload and client, other luck. The spread
/// of a strategy's runs over replicas is what luck alone moves it by.
zoo_draw reseeded(const zoo_draw& d, std::size_t k);

/// Strategies `a` and `b` over the draws both ran in more than one
/// replica: per draw, each one's goodput range over its replicas is its
/// seed spread, the larger of the two (and at least 1% of the larger mean
/// goodput: within 1% is a tie, as in zoo_better) the draw's; a strategy
/// is ahead where its mean goodput exceeds the other's by more than that,
/// and the two are within the spread elsewhere.
struct zoo_spread_comparison {
  std::string a, b;
  std::size_t draws = 0;
  std::vector<std::size_t> a_ahead, b_ahead; // draw numbers
};
zoo_spread_comparison compare_beyond_spread(const std::vector<zoo_run>& runs,
                                            const std::string& a,
                                            const std::string& b);

/// Per strategy, over `runs` (every draw run by every strategy, the
/// oracle among them); `filter` keeps the draws counted (all if empty).
std::vector<zoo_summary> summarize_zoo(const std::vector<zoo_draw>& draws,
                                       const std::vector<zoo_run>& runs,
                                       bool (*filter)(const zoo_draw&)
                                       = nullptr);

} // namespace batching::sim

namespace batching {

template <>
struct enum_names<sim::demand_shape> {
  static constexpr std::array<std::string_view, 3> names{"steady", "bursty",
                                                         "stepped"};
};
template <>
struct enum_names<sim::client_knowledge> {
  static constexpr std::array<std::string_view, 4> names{"none", "right",
                                                         "high", "low"};
};

} // namespace batching
