#pragma once

// The protocol's message types: plain aggregates with `operator==` and a CAF
// `inspect` overload each (positional fields; CAF 0.17 has no field names).
// Events are past tense (`batch_completed`), commands are an atom plus one
// of these payloads (see interfaces.hpp). This header pulls in only
// caf/meta/type_name.hpp and the callback annotations, so it stays cheap to
// include.

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/meta/load_callback.hpp>
#include <caf/meta/save_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/policy/cluster_budget.hpp"
#include "runtime/policy/types.hpp"

namespace caf {
class error;
} // namespace caf

namespace batching {

// -- jobs ---------------------------------------------------------------------

/// A host's request to run operations of one type.
struct job_submission {
  std::string op_type;
  priority prio = priority::normal;
  std::vector<operation> operations;
  /// Operations still unfinished this long after submission are failed;
  /// zero means no deadline.
  duration deadline{0};

  bool operator==(const job_submission&) const = default;
};

/// Operations the coordinator hands to the batcher of their type.
struct work_items {
  std::uint64_t job_id = 0;
  priority prio = priority::normal;
  time_point deadline;           // epoch: none
  std::uint64_t first_index = 0; // index of operations[0] in its job
  std::vector<operation> operations;

  bool operator==(const work_items&) const = default;
};

// -- batches and executors ----------------------------------------------------

// -- circuit breaker ----------------------------------------------------------

/// Pushed by a circuit breaker to its subscribers on every transition.
struct breaker_state_changed {
  std::string backend;
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  time_point at;
  std::string reason;

  bool operator==(const breaker_state_changed&) const = default;
};

/// A batcher's report on a permit its backend's gate granted: the request's
/// result, or that it was not used. Every permit is reported exactly once.
struct request_completed {
  std::uint64_t permit = 0;
  bool sent = true; // false: the permit was returned unused
  batch_status status = batch_status::ok;
  duration retry_after{0};
  duration latency{0};
  rate_limit_advice advice; // the answer's rate-limit headers

  bool operator==(const request_completed&) const = default;
};

/// A backend gate's state: its breaker and its pacer.
struct gate_status {
  std::string backend;
  breaker_state breaker = breaker_state::closed;
  double request_rate = 0; // requests/s the pacer allows; 0 = unpaced
  double ceiling = 0;      // rate at the last 429; 0 = none seen
  std::uint32_t in_flight = 0;
  std::uint64_t waiting = 0; // permit requests queued

  bool operator==(const gate_status&) const = default;
};

/// A live change of one operation type's sizing (runtime::update_config):
/// its strategy, bounds, and whether it learns (ml) or samples for the
/// model; the batcher restarts its strategy within them.
struct sizing_change {
  strategy_kind strategy = strategy_kind::adaptive;
  std::uint32_t lo = 10;
  std::uint32_t hi = 500;
  std::uint32_t preferred = 100;
  bool learn = false;
  bool sample = false;

  bool operator==(const sizing_change&) const = default;
};

// -- resources ----------------------------------------------------------------

// -- optimizer ----------------------------------------------------------------

// model_report: runtime/policy/types.hpp (the host API returns it).

// -- load tests ---------------------------------------------------------------

/// The seed's LoadTestConfiguration.
struct load_test_config {
  std::string name;
  std::uint32_t duration_seconds = 60;
  std::uint32_t concurrent_users = 10;
  std::uint32_t operations_per_user = 100;
  std::vector<std::uint32_t> batch_sizes;

  bool operator==(const load_test_config&) const = default;
};

// play_report: runtime/policy/types.hpp (the host API returns it).

/// Load-test figures of one operation type.
struct type_breakdown {
  std::string op_type;
  std::uint64_t total_operations = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t throttled = 0;
  double operations_per_second = 0;
  latency_summary latency_ms;

  bool operator==(const type_breakdown&) const = default;
};

/// The seed's load-test result.
struct load_test_result {
  std::string name;
  std::uint64_t total_operations = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t throttled = 0; // requests answered 429
  double duration_seconds = 0;
  double operations_per_second = 0;
  double success_rate = 0; // 0..1
  latency_summary latency_ms;
  std::vector<type_breakdown> per_type;

  bool operator==(const load_test_result&) const = default;
};

// -- cluster budget (docs/deployment.md) --------------------------------------

/// A node's gate asks the budget authority for permits of a backend.
struct lease_request {
  std::string node;
  std::string backend;
  std::uint32_t wanted = 0;

  bool operator==(const lease_request&) const = default;
};

/// Permits a node did not spend in their window, given back.
struct lease_return {
  std::string node;
  std::string backend;
  std::uint64_t window = 0;
  std::uint32_t unused = 0;

  bool operator==(const lease_return&) const = default;
};

/// A node saw a 429 from the backend.
struct throttle_report {
  std::string node;
  std::string backend;
  duration retry_after{0};

  bool operator==(const throttle_report&) const = default;
};

/// Every node pauses the backend for this long (a 429 seen anywhere).
struct cluster_pause {
  std::string backend;
  duration pause_for{0};

  bool operator==(const cluster_pause&) const = default;
};

// -- dashboard ----------------------------------------------------------------

/// The coordinator's own counters.
struct coordinator_status {
  std::uint64_t active_jobs = 0;
  std::uint64_t waiting_jobs = 0;
  std::uint64_t completed_jobs = 0;
  std::uint32_t max_concurrent_jobs = 0;
  std::uint64_t queued_operations = 0; // unfinished, in all jobs
  std::uint64_t ledger_violations = 0; // illegal transitions refused (0)
  std::uint32_t worker_nodes = 0;      // live worker nodes (this one aside)
  std::uint32_t lost_nodes = 0;        // workers lost, their work moved
  std::uint64_t stale_events = 0;      // reports from lost nodes, dropped
  std::uint64_t actor_restarts = 0;    // actors the supervisor restarted

  bool operator==(const coordinator_status&) const = default;
};

/// Whole-system figures.
struct performance_metrics {
  double average_throughput = 0; // operations/s
  double average_latency_ms = 0;
  double success_rate = 0; // 0..1
  double system_cpu_usage = 0;
  double system_memory_usage = 0;

  bool operator==(const performance_metrics&) const = default;
};

/// The seed's get_performance_dashboard.
struct dashboard {
  time_point at;
  coordinator_status coordinator;
  std::vector<batching_metrics> batching;
  performance_metrics performance;
  resource_snapshot resources;
  std::vector<resource_alert> active_alerts;

  bool operator==(const dashboard&) const = default;
};

// -- inspect overloads --------------------------------------------------------

/// Whether a field may cross the wire: an enum holds one of its values (a
/// peer's bytes may hold any number; a priority of 200 would index a queue
/// out of bounds) and a number is finite (CAF 0.17's pack754 loops forever
/// on an infinity, and reads one from a peer's bytes). Structs check their
/// own fields.
template <class T>
bool on_wire(const T& x) {
  if constexpr (named_enum<T>)
    return is_named(x);
  else if constexpr (std::is_floating_point_v<T>)
    return std::isfinite(x);
  else
    return true;
}

template <class T>
bool on_wire(const std::vector<T>& xs) {
  for (const auto& x : xs)
    if (!on_wire(x))
      return false;
  return true;
}

template <class K, class V>
bool on_wire(const std::map<K, V>& xs) {
  for (const auto& [k, v] : xs)
    if (!on_wire(v))
      return false;
  return true;
}

/// What a save or load answers when a field cannot cross the wire
/// (messages/error.cpp): error_code::bad_request, or none.
caf::error wire_error(bool fine, const char* type);

/// Every inspect overload: the type's name, then its fields; saving checks
/// them first (an error instead of CAF hanging on an infinity), loading
/// checks them last (a peer's value never reaches a handler).
template <class Inspector, class... Fields>
typename Inspector::result_type inspect_fields(Inspector& f, const char* name,
                                               Fields&... xs) {
  auto check
    = [name, &xs...] { return wire_error((... && on_wire(xs)), name); };
  return f(caf::meta::type_name(name), caf::meta::save_callback(check), xs...,
           caf::meta::load_callback(check));
}

// Vocabulary types declared in runtime/policy/types.hpp.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_grant& x) {
  return inspect_fields(f, "lease_grant", x.permits, x.window, x.valid_for,
                        x.retry_in, x.pause_for, x.nodes, x.rate, x.first_at,
                        x.spacing);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_request& x) {
  return inspect_fields(f, "lease_request", x.node, x.backend, x.wanted);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_return& x) {
  return inspect_fields(f, "lease_return", x.node, x.backend, x.window,
                        x.unused);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, throttle_report& x) {
  return inspect_fields(f, "throttle_report", x.node, x.backend, x.retry_after);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_pause& x) {
  return inspect_fields(f, "cluster_pause", x.backend, x.pause_for);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, play_report& x) {
  return inspect_fields(f, "play_report", x.jobs, x.operations,
                        x.rejected_operations);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operation& x) {
  return inspect_fields(f, "operation", x.id, x.payload);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_snapshot& x) {
  return inspect_fields(
    f, "resource_snapshot", x.at, x.cpu_percent, x.memory_percent,
    x.net_rx_bytes_per_s, x.net_tx_bytes_per_s, x.disk_read_bytes_per_s,
    x.disk_write_bytes_per_s, x.disk_busy_percent, x.load_average_1m);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_alert& x) {
  return inspect_fields(f, "resource_alert", x.at, x.level, x.resource, x.value,
                        x.threshold, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feature_vector& x) {
  return inspect_fields(
    f, "feature_vector", x.batch_size, x.in_flight_batches,
    x.pending_operations, x.arrival_rate, x.recent_latency_ms, x.throttle_rate,
    x.error_rate, x.seconds_since_throttle, x.cpu_percent, x.memory_percent);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, training_sample& x) {
  return inspect_fields(f, "training_sample", x.op_type, x.features,
                        x.throughput, x.item_latency_ms, x.success_rate);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, optimization_target& x) {
  return inspect_fields(f, "optimization_target", x.target_throughput,
                        x.max_response_time_ms, x.priority, x.min_confidence);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prediction& x) {
  return inspect_fields(f, "prediction", x.op_type, x.batch_size,
                        x.predicted_throughput, x.predicted_latency_ms,
                        x.confidence, x.model);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, latency_summary& x) {
  return inspect_fields(f, "latency_summary", x.p50, x.p95, x.p99, x.mean,
                        x.max);
}

// Message types declared above.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_submission& x) {
  return inspect_fields(f, "job_submission", x.op_type, x.prio, x.operations,
                        x.deadline);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_status& x) {
  return inspect_fields(f, "job_status", x.job_id, x.op_type, x.prio, x.state,
                        x.total, x.queued, x.in_flight, x.succeeded, x.failed,
                        x.cancelled, x.submitted_at, x.started_at,
                        x.finished_at, x.throughput, x.last_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, work_items& x) {
  return inspect_fields(f, "work_items", x.job_id, x.prio, x.deadline,
                        x.first_index, x.operations);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operation_finished& x) {
  return inspect_fields(f, "operation_finished", x.operation_id, x.job_id,
                        x.index, x.state, x.attempts, x.latency, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch& x) {
  return inspect_fields(f, "batch", x.batch_id, x.op_type, x.backend,
                        x.operations, x.attempt, x.created_at, x.timeout);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, item_result& x) {
  return inspect_fields(f, "item_result", x.operation_id, x.status, x.detail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rate_limit_advice& x) {
  return inspect_fields(f, "rate_limit_advice", x.quota, x.window_s,
                        x.remaining, x.reset_s);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_outcome& x) {
  return inspect_fields(f, "batch_outcome", x.batch_id, x.status, x.retry_after,
                        x.latency, x.items, x.message, x.advice);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        breaker_state_changed& x) {
  return inspect_fields(f, "breaker_state_changed", x.backend, x.from, x.to,
                        x.at, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_completed& x) {
  return inspect_fields(f, "request_completed", x.permit, x.sent, x.status,
                        x.retry_after, x.latency, x.advice);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sizing_change& x) {
  return inspect_fields(f, "sizing_change", x.strategy, x.lo, x.hi, x.preferred,
                        x.learn, x.sample);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gate_status& x) {
  return inspect_fields(f, "gate_status", x.backend, x.breaker, x.request_rate,
                        x.ceiling, x.in_flight, x.waiting);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, op_ref& x) {
  return inspect_fields(f, "op_ref", x.job_id, x.index);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operation_events& x) {
  return inspect_fields(f, "operation_events", x.sent, x.requeued, x.finished);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recommendation& x) {
  return inspect_fields(f, "recommendation", x.type, x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_trends& x) {
  return inspect_fields(f, "resource_trends", x.cpu, x.memory, x.network,
                        x.disk);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prediction_request& x) {
  return inspect_fields(f, "prediction_request", x.op_type, x.features,
                        x.target);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, optimizer_insights& x) {
  return inspect_fields(f, "optimizer_insights", x.total_predictions,
                        x.average_confidence, x.model_scores,
                        x.feature_importances, x.recommendations, x.warnings);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_report& x) {
  return inspect_fields(f, "model_report", x.op_type, x.trained,
                        x.throughput_r2, x.throughput_mae, x.latency_r2,
                        x.latency_mae, x.samples, x.importances, x.model);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ab_test_config& x) {
  return inspect_fields(f, "ab_test_config", x.name, x.control_strategy,
                        x.test_strategy, x.length, x.op_type);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ab_test_result& x) {
  return inspect_fields(f, "ab_test_result", x.test_id, x.name,
                        x.control_strategy, x.test_strategy, x.control_samples,
                        x.test_samples, x.control_batches, x.test_batches,
                        x.control_mean, x.test_mean, x.improvement_percent,
                        x.p_value, x.recommendation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_test_config& x) {
  return inspect_fields(f, "load_test_config", x.name, x.duration_seconds,
                        x.concurrent_users, x.operations_per_user,
                        x.batch_sizes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, type_breakdown& x) {
  return inspect_fields(f, "type_breakdown", x.op_type, x.total_operations,
                        x.succeeded, x.failed, x.throttled,
                        x.operations_per_second, x.latency_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_test_result& x) {
  return inspect_fields(f, "load_test_result", x.name, x.total_operations,
                        x.succeeded, x.failed, x.throttled, x.duration_seconds,
                        x.operations_per_second, x.success_rate, x.latency_ms,
                        x.per_type);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, coordinator_status& x) {
  return inspect_fields(
    f, "coordinator_status", x.active_jobs, x.waiting_jobs, x.completed_jobs,
    x.max_concurrent_jobs, x.queued_operations, x.ledger_violations,
    x.worker_nodes, x.lost_nodes, x.stale_events, x.actor_restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batching_metrics& x) {
  return inspect_fields(
    f, "batching_metrics", x.op_type, x.strategy, x.current_batch_size,
    x.in_flight_batches, x.queue_depth, x.succeeded, x.failed, x.throttled,
    x.average_throughput, x.average_latency_ms, x.p50_latency_ms,
    x.p99_latency_ms, x.request_rate, x.breaker, x.circuit_breaker_active,
    x.requests, x.latency_buckets, x.latency_count, x.latency_sum_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, performance_metrics& x) {
  return inspect_fields(f, "performance_metrics", x.average_throughput,
                        x.average_latency_ms, x.success_rate,
                        x.system_cpu_usage, x.system_memory_usage);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dashboard& x) {
  return inspect_fields(f, "dashboard", x.at, x.coordinator, x.batching,
                        x.performance, x.resources, x.active_alerts);
}

} // namespace batching
