#pragma once

// A simulation scenario: the backend (its hidden truth), the workload, the
// SLO and the strategies to compare. Read from YAML through the same reader
// as the configuration (config/reader.hpp), so a bad file gets
// file:line:column errors; docs/simulation.md lists every key.
//
// Times in a scenario are seconds from the start of the run (`_s`), or
// milliseconds where the key says `_ms`. A backend parameter left at -1 in
// a change keeps its value.

#include <cstdint>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "runtime/policy/rate_limit_headers.hpp"
#include "runtime/policy/types.hpp"
#include "runtime/policy/workload.hpp"
#include "sim/kinds.hpp"

namespace batching::sim {

/// Backend parameters that a scheduled change may set (-1: unchanged).
struct backend_params {
  // rate_limited_api
  double rate = 3;                // token bucket: requests/s
  double burst = 3;               // token bucket: capacity
  double window_requests = 180;   // fixed window: requests per window
  double window_seconds = 60;     // fixed window: its length
  double base_latency_ms = 150;   // latency = base + per_item * n ...
  double per_item_latency_ms = 2; // ... times lognormal jitter
  double jitter_sigma = 0.2;      // sigma of the jitter's log
  double concurrency = 0;         // requests served at once; 0: unlimited
  double error_rate = 0;          // accepted requests failing 500-like
  double late_answer_rate = 0;    // accepted, answered after the timeout
  double tenant_share = 0;        // other tenants' peak share of the budget
  double tenant_period_s = 60;    // ... varying with this period
  // database
  double item_cost_ms = 1;          // latency = base + item_cost * n^0.8
  double contention = 0.5;          // ... * (1 + contention * (c - 1))
  double overload_concurrency = 8;  // more concurrent batches than this ...
  double overload_error_rate = 0.2; // ... fail with this probability
};

/// Every parameter of `p`, in schema order (the schema below lists them,
/// so overlays and "unchanged" need no list of their own).
std::vector<double*> parameters_of(backend_params& p);

/// Parameters that all say "unchanged" (-1).
backend_params unchanged_params();

/// `p` with every parameter of `change` that is not -1.
backend_params overlay(backend_params p, backend_params change);

struct backend_change {
  double at_s = 0;
  backend_params set = unchanged_params();
};

struct outage_window {
  double from_s = 0;
  double to_s = 0;
  /// retryable_failure (503) or throttled (429 with Retry-After).
  batch_status status = batch_status::retryable_failure;
};

/// An actor killed at a moment of the run, as a crash would end it.
struct actor_death {
  double at_s = 0;
  supervised_role actor = supervised_role::batcher;
  /// The batcher's operation type (batchers only; empty: every batcher).
  std::string op_type;
};

struct backend_spec {
  backend_kind kind = backend_kind::rate_limited_api;
  budget_kind budget = budget_kind::token_bucket;
  std::uint32_t max_items_per_request = 100;
  double max_payload_bytes = 500'000;
  backend_params params;
  std::vector<backend_change> changes;
  std::vector<outage_window> outages;
  header_style headers = header_style::none;
  retry_after_mode retry_after = retry_after_mode::rounded;
};

/// What the operator configures the client with for this backend (known
/// to a real client: documentation, not the backend's hidden truth).
struct client_spec {
  /// The pacer's starting rate (backends.*.initial_requests_per_second);
  /// -1 keeps the product default (3, Notion's documented average), 0
  /// starts unpaced (a backend without a documented request budget).
  double initial_requests_per_second = -1;
};

struct slo_spec {
  double p99_latency_ms = 10'000;
};

struct scenario {
  std::string name = "unnamed";
  std::uint64_t seed = 1;
  double duration_s = 120;
  /// Simulated time after duration_s for queued work to finish (counted in
  /// latency; not in goodput).
  double drain_s = 120;
  slo_spec slo;
  client_spec client;
  backend_spec backend;
  std::vector<workload_plan> workload;
  /// Strategy names (see strategies.hpp); empty: the default set.
  std::vector<std::string> strategies;
  /// Actors killed mid-run (the supervisor restarts them).
  std::vector<actor_death> actor_deaths;
};

template <class V>
void visit(scenario& x, V& v) {
  v.name("name", x.name, "Scenario name (reports, JSON).");
  v.scalar("seed", x.seed, config::bounds{0, 1e15}, "",
           "Seeds every random draw of the run.");
  v.scalar("duration_s", x.duration_s, config::bounds{1, 1e6}, "s",
           "Simulated time of arrivals.");
  v.scalar("drain_s", x.drain_s, config::bounds{0, 1e6}, "s",
           "Simulated time after arrivals stop for queued work to finish.");
  v.section("slo", x.slo, "Service level objective.");
  v.section("client", x.client,
            "What the operator configures the client "
            "with (documented facts, not hidden ones).");
  v.section("backend", x.backend, "The simulated backend.");
  v.list("workload", x.workload, "One entry per operation type stream.");
  v.names("strategies", x.strategies,
          "Strategies to compare (default: all of docs/simulation.md).");
  v.list("actor_deaths", x.actor_deaths,
         "Actors killed mid-run; the supervisor restarts them.");
}

/// The path of a scenario shipped in sim/scenarios/ (next to the
/// configuration directory config::default_directory() finds).
std::string shipped_scenario_path(const std::string& name);

/// Reads a scenario file; `errors` gets every problem (file:line:column).
scenario load_scenario(const config::source& src,
                       std::vector<config::diagnostic>& errors);

/// The scenario as YAML that load_scenario reads back to the same scenario
/// (every key, in schema order).
std::string to_yaml(const scenario& sc);

// -- schema -------------------------------------------------------------------

template <class V>
void visit(backend_params& x, V& v) {
  using config::bounds;
  bounds any{-1, 1e9};
  v.scalar("rate", x.rate, any, "requests/s",
           "token_bucket, nginx_delay: refill (leak) rate.");
  v.scalar("burst", x.burst, any, "requests",
           "token_bucket: capacity; nginx_delay: requests held back.");
  v.scalar("window_requests", x.window_requests, any, "requests",
           "Window kinds: requests allowed per window.");
  v.scalar("window_seconds", x.window_seconds, any, "s",
           "Window kinds: its length.");
  v.scalar("base_latency_ms", x.base_latency_ms, any, "ms",
           "Latency of an empty request.");
  v.scalar("per_item_latency_ms", x.per_item_latency_ms, any, "ms",
           "Added latency per item (rate_limited_api).");
  v.scalar("jitter_sigma", x.jitter_sigma, any, "",
           "Lognormal jitter of latency (sigma of its log).");
  v.scalar("concurrency", x.concurrency, any, "requests",
           "Requests served at once; more queue (0: unlimited). Budget "
           "concurrency: the limit, more are answered 429.");
  v.scalar("error_rate", x.error_rate, any, "",
           "Probability that an accepted request fails (500-like).");
  v.scalar("late_answer_rate", x.late_answer_rate, any, "",
           "Share of accepted requests whose answer reaches the client only "
           "after its request timeout, or (half of them) never: the backend "
           "did the work, the client must send it again (at least once).");
  v.scalar("tenant_share", x.tenant_share, any, "",
           "Other tenants spend up to this share of the budget (on average "
           "half of it), varying with tenant_period_s.");
  v.scalar("tenant_period_s", x.tenant_period_s, any, "s",
           "Period of the other tenants' varying rate.");
  v.scalar("item_cost_ms", x.item_cost_ms, any, "ms",
           "database: latency = base + item_cost * n^0.8.");
  v.scalar("contention", x.contention, any, "",
           "database: latency grows by this share per other batch in "
           "flight.");
  v.scalar("overload_concurrency", x.overload_concurrency, any, "batches",
           "database: more batches in flight than this overload it.");
  v.scalar("overload_error_rate", x.overload_error_rate, any, "",
           "database: failure probability of a batch under overload.");
}

template <class V>
void visit(backend_change& x, V& v) {
  v.scalar("at_s", x.at_s, config::bounds{0, 1e7}, "s",
           "When the change happens.");
  visit(x.set, v);
}

template <class V>
void visit(actor_death& x, V& v) {
  v.scalar("at_s", x.at_s, config::bounds{0, 1e7}, "s", "When it is killed.");
  v.choice("actor", x.actor, "batcher, gate or executor.");
  v.name("op_type", x.op_type,
         "The batcher's operation type (empty: every batcher).");
}

template <class V>
void visit(outage_window& x, V& v) {
  v.scalar("from_s", x.from_s, config::bounds{0, 1e7}, "s", "Start.");
  v.scalar("to_s", x.to_s, config::bounds{0, 1e7}, "s", "End.");
  v.choice("status", x.status,
           "What requests get meanwhile: retryable_failure (503) or "
           "throttled (429).");
}

template <class V>
void visit(backend_spec& x, V& v) {
  v.choice("kind", x.kind, "rate_limited_api or database.");
  v.choice("budget", x.budget,
           "How requests are counted (sim/limiter.hpp): token_bucket, "
           "fixed_window, sliding_log, sliding_counter, counting_log, "
           "counting_counter, nginx_delay, concurrency or unlimited.");
  v.choice("retry_after", x.retry_after,
           "Retry-After of a 429: rounded (whole seconds, up), exact or "
           "absent.");
  v.scalar("max_items_per_request", x.max_items_per_request,
           config::batch_items, "items",
           "More items fail the whole request (400).");
  v.scalar("max_payload_bytes", x.max_payload_bytes, config::bounds{1, 1e12},
           "bytes", "More payload fails the whole request (400).");
  visit(x.params, v);
  v.choice("headers", x.headers,
           "Rate-limit headers on every answer: none, ietf (RateLimit-Policy "
           "+ RateLimit, q/w/r/t), ietf_draft7, ietf_draft6, x_ratelimit, "
           "x_ratelimit_epoch.");
  v.list("changes", x.changes, "Scheduled changes of parameters.");
  v.list("outages", x.outages, "Outage windows.");
}

template <class V>
void visit(client_spec& x, V& v) {
  v.scalar("initial_requests_per_second", x.initial_requests_per_second,
           config::bounds{-1, 1e9}, "requests/s",
           "The pacer's starting rate; -1: the product default; 0: "
           "unpaced until the first 429.");
}

template <class V>
void visit(slo_spec& x, V& v) {
  v.scalar("p99_latency_ms", x.p99_latency_ms, config::bounds{1, 1e9}, "ms",
           "Item latency (submit to final outcome) the p99 must stay under.");
}

} // namespace batching::sim

namespace batching {

// Workload streams (runtime/policy/workload.hpp) as scenario entries.

template <class V>
void visit(workload_phase& x, V& v) {
  v.scalar("at_s", x.at_s, config::bounds{0, 1e7}, "s", "Start.");
  v.scalar("rate", x.rate, config::bounds{0, 1e9}, "items/s", "New rate.");
}

template <class V>
void visit(payload_range& x, V& v) {
  v.scalar("min", x.min_bytes, config::bounds{0, 1e9}, "bytes", "Smallest.");
  v.scalar("max", x.max_bytes, config::bounds{0, 1e9}, "bytes", "Largest.");
}

template <class V>
void visit(priority_mix& x, V& v) {
  config::bounds w{0, 1e6};
  v.scalar("critical", x.critical, w, "weight", "Share of critical jobs.");
  v.scalar("high", x.high, w, "weight", "Share of high jobs.");
  v.scalar("normal", x.normal, w, "weight", "Share of normal jobs.");
  v.scalar("low", x.low, w, "weight", "Share of low jobs.");
}

template <class V>
void visit(workload_plan& x, V& v) {
  v.name("op_type", x.op_type, "Operation type (read, write, ...).");
  v.choice("arrival", x.arrival, "constant, poisson, bursts or ramp.");
  v.scalar("rate", x.rate, config::bounds{0, 1e9}, "items/s",
           "Arrival rate at the start.");
  v.scalar("burst_every_s", x.burst_every_s, config::bounds{0.001, 1e7}, "s",
           "bursts: period.");
  v.scalar("burst_items", x.burst_items, config::bounds{0, 1e9}, "items",
           "bursts: items per burst.");
  v.list("phases", x.phases, "Rate changes at given times.");
  v.section("payload_bytes", x.payload_bytes, "Uniform payload size.");
  v.section("priorities", x.priorities, "Priority weights of jobs.");
  v.scalar("job_size", x.job_size, config::bounds{1, 1e6}, "operations",
           "Operations per job.");
  v.scalar("users", x.users, config::bounds{1, 10'000}, "actors",
           "Load generator actors sharing the rate.");
}

} // namespace batching
