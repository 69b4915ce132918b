#pragma once

// The runtime's vocabulary: value types shared by the pure policies, the
// protocol (messages/ adds their `inspect` overloads) and the tools. Standard
// library only, so every layer may include it.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/policy/enum_names.hpp"

namespace batching {

// -- time ---------------------------------------------------------------------

/// Policies never read a clock: callers pass `now` of this type. Actors use
/// their actor clock (steady, or virtual under the deterministic scheduler).
using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::nanoseconds;

/// Durations from the configuration's seconds and milliseconds, and back.
inline duration from_seconds(double s) {
  return std::chrono::duration_cast<duration>(std::chrono::duration<double>{s});
}
inline duration from_millis(double ms) { return from_seconds(ms / 1000.0); }
inline double to_seconds(duration d) {
  return std::chrono::duration<double>{d}.count();
}

// -- enums --------------------------------------------------------------------

/// Job priority. Batches are assembled in this order (critical first).
enum class priority : std::uint8_t { critical, high, normal, low };

/// Lifecycle of one operation: queued -> in_flight -> one terminal state.
/// in_flight may go back to queued (retry, throttling, breaker open).
enum class operation_state : std::uint8_t {
  queued,
  in_flight,
  succeeded,
  failed,
  cancelled,
};

/// True for the states an operation never leaves.
constexpr bool is_terminal(operation_state x) {
  return x == operation_state::succeeded || x == operation_state::failed
         || x == operation_state::cancelled;
}

/// Lifecycle of a job.
enum class job_state : std::uint8_t {
  waiting,   // admitted, but max_concurrent_jobs are running
  running,   // its operations are being batched
  completed, // every operation succeeded
  failed,    // finished, at least one operation failed
  cancelled, // cancelled before all operations finished
};

/// What the backend said about a whole request (batch).
enum class batch_status : std::uint8_t {
  ok,                // accepted; per-item results may still carry failures
  throttled,         // 429/503 with Retry-After: backpressure, not a failure
  retryable_failure, // 5xx, timeout, connection error: retry with backoff
  permanent_failure, // 4xx: retrying cannot help
};

/// Per-operation result reported by an executor.
enum class item_status : std::uint8_t {
  ok,
  retryable_failure,
  permanent_failure,
};

/// Circuit breaker states per backend.
enum class breaker_state : std::uint8_t { closed, open, half_open };

/// Batch-size strategies selectable per operation type.
enum class strategy_kind : std::uint8_t {
  conservative,
  aggressive,
  adaptive,
  balanced,
  fixed,   // "static": always the preferred size (the seed's baseline)
  ml,      // the optimizer's predictions when confident, else adaptive
  clipper, // peer: Clipper's released batch sizing (docs/anchors.md §9)
};

/// Who decides when a backend's next request may leave (flow_control.hpp).
enum class flow_kind : std::uint8_t {
  pacer, // ours: learned request rate + Retry-After
  fixed, // a fixed rate (0 = unpaced) and in-flight cap: static, oracle
  netflix_aimd,
  netflix_gradient2,
  netflix_vegas,
  envoy_gradient,
  aws_adaptive,
  vector_arc,
  google_sre_throttle,
};

/// Severity of a resource alert. `cleared` ends an earlier alert.
enum class alert_level : std::uint8_t { cleared, warning, critical };

/// A process's place in a cluster (docs/deployment.md).
enum class cluster_role : std::uint8_t {
  none,        // stand-alone: its own budget
  member,      // joins a cluster to share its budget, keeps its own jobs
  authority,   // the budget authority only (`batching node`)
  coordinator, // the budget authority plus the coordinator workers join
  worker,      // batchers and executors for a coordinator's jobs
};

/// How nodes talk: TLS, or plain TCP for loopback testing only.
enum class cluster_transport : std::uint8_t { tls, plain_tcp };

/// How a journal syncs (journal.sync): `full` syncs the WAL at every commit
/// (what was acknowledged survives a power loss); `normal` syncs at
/// checkpoints (it survives a crash of the process, not of the machine).
enum class journal_sync : std::uint8_t { full, normal };

/// Resources the sampler watches.
enum class resource_kind : std::uint8_t { cpu, memory, network, disk };

/// Direction of a resource's recent values.
enum class trend : std::uint8_t { decreasing, stable, increasing };

/// What an optimization target favours (the seed's OptimizationTarget).
enum class target_priority : std::uint8_t { throughput, latency, balanced };

/// Verdict of an A/B test.
enum class ab_recommendation : std::uint8_t { adopt, keep, inconclusive };

template <>
struct enum_names<priority> {
  static constexpr std::array<std::string_view, 4> names{"critical", "high",
                                                         "normal", "low"};
};
template <>
struct enum_names<operation_state> {
  static constexpr std::array<std::string_view, 5> names{
    "queued", "in_flight", "succeeded", "failed", "cancelled"};
};
template <>
struct enum_names<job_state> {
  static constexpr std::array<std::string_view, 5> names{
    "waiting", "running", "completed", "failed", "cancelled"};
};
template <>
struct enum_names<batch_status> {
  static constexpr std::array<std::string_view, 4> names{
    "ok", "throttled", "retryable_failure", "permanent_failure"};
};
template <>
struct enum_names<item_status> {
  static constexpr std::array<std::string_view, 3> names{
    "ok", "retryable_failure", "permanent_failure"};
};
template <>
struct enum_names<breaker_state> {
  static constexpr std::array<std::string_view, 3> names{"closed", "open",
                                                         "half_open"};
};
template <>
struct enum_names<strategy_kind> {
  static constexpr std::array<std::string_view, 7> names{
    "conservative", "aggressive", "adaptive", "balanced",
    "static",       "ml",         "clipper"};
};
template <>
struct enum_names<flow_kind> {
  static constexpr std::array<std::string_view, 9> names{"pacer",
                                                         "fixed",
                                                         "netflix_aimd",
                                                         "netflix_gradient2",
                                                         "netflix_vegas",
                                                         "envoy_gradient",
                                                         "aws_adaptive",
                                                         "vector_arc",
                                                         "google_sre_throttle"};
};
template <>
struct enum_names<alert_level> {
  static constexpr std::array<std::string_view, 3> names{"cleared", "warning",
                                                         "critical"};
};
template <>
struct enum_names<cluster_role> {
  static constexpr std::array<std::string_view, 5> names{
    "none", "member", "authority", "coordinator", "worker"};
};
template <>
struct enum_names<cluster_transport> {
  static constexpr std::array<std::string_view, 2> names{"tls", "plain_tcp"};
};
template <>
struct enum_names<journal_sync> {
  static constexpr std::array<std::string_view, 2> names{"full", "normal"};
};
template <>
struct enum_names<resource_kind> {
  static constexpr std::array<std::string_view, 4> names{"cpu", "memory",
                                                         "network", "disk"};
};
template <>
struct enum_names<trend> {
  static constexpr std::array<std::string_view, 3> names{"decreasing", "stable",
                                                         "increasing"};
};
template <>
struct enum_names<target_priority> {
  static constexpr std::array<std::string_view, 3> names{"throughput",
                                                         "latency", "balanced"};
};
template <>
struct enum_names<ab_recommendation> {
  static constexpr std::array<std::string_view, 3> names{"adopt", "keep",
                                                         "inconclusive"};
};

// -- values -------------------------------------------------------------------

/// One unit of work. The payload is opaque to the runtime (usually JSON text);
/// only the executor interprets it. The operation type is carried by the job
/// and the batch, since every operation of a job shares it.
struct operation {
  std::uint64_t id = 0;
  std::string payload;

  bool operator==(const operation&) const = default;
};

/// One reading of the machine's resources.
struct resource_snapshot {
  time_point at;
  double cpu_percent = 0;            // all cores, 0..100
  double memory_percent = 0;         // used / total, 0..100
  double net_rx_bytes_per_s = 0;     // all non-loopback interfaces
  double net_tx_bytes_per_s = 0;     //
  double disk_read_bytes_per_s = 0;  // all whole disks
  double disk_write_bytes_per_s = 0; //
  double disk_busy_percent = 0;      // time with I/O in progress, 0..100
  double load_average_1m = 0;        // /proc/loadavg

  bool operator==(const resource_snapshot&) const = default;
};

/// A threshold crossed (or cleared) for at least its sustained duration.
struct resource_alert {
  time_point at;
  alert_level level = alert_level::warning;
  resource_kind resource = resource_kind::cpu;
  double value = 0;     // the sustained reading that raised the alert
  double threshold = 0; // the threshold it crossed
  std::string message;  // human-readable, e.g. "cpu 91.2% >= critical 85%"

  bool operator==(const resource_alert&) const = default;
};

/// What the optimizer's models see about a batcher at one moment.
struct feature_vector {
  double batch_size = 0;
  double in_flight_batches = 0;
  double pending_operations = 0;
  double arrival_rate = 0;      // operations/s
  double recent_latency_ms = 0; // item latency
  double throttle_rate = 0;     // 0..1 of recent requests
  double error_rate = 0;        // 0..1 of recent requests
  double seconds_since_throttle = 0;
  double cpu_percent = 0;
  double memory_percent = 0;

  bool operator==(const feature_vector&) const = default;
};

/// The features by name, in the models' order (their importances, the
/// HTTP API's JSON).
inline constexpr std::array<
  std::pair<std::string_view, double feature_vector::*>, 10>
  feature_fields{
    {{"batch_size", &feature_vector::batch_size},
     {"in_flight_batches", &feature_vector::in_flight_batches},
     {"pending_operations", &feature_vector::pending_operations},
     {"arrival_rate", &feature_vector::arrival_rate},
     {"recent_latency_ms", &feature_vector::recent_latency_ms},
     {"throttle_rate", &feature_vector::throttle_rate},
     {"error_rate", &feature_vector::error_rate},
     {"seconds_since_throttle", &feature_vector::seconds_since_throttle},
     {"cpu_percent", &feature_vector::cpu_percent},
     {"memory_percent", &feature_vector::memory_percent}}};

/// One observation for the optimizer: features, then what happened.
struct training_sample {
  std::string op_type;
  feature_vector features;
  double throughput = 0; // succeeded operations/s
  double item_latency_ms = 0;
  double success_rate = 0; // 0..1

  bool operator==(const training_sample&) const = default;
};

/// What the optimizer should aim for (the seed's OptimizationTarget).
struct optimization_target {
  double target_throughput = 0; // operations/s
  double max_response_time_ms = 0;
  target_priority priority = target_priority::balanced;
  /// The confidence the asker acts on (0: any); the model then chooses
  /// among the sizes it is that confident about, when there are any.
  double min_confidence = 0;

  bool operator==(const optimization_target&) const = default;
};

/// A model's answer to "which batch size?".
struct prediction {
  std::string op_type;
  std::uint32_t batch_size = 0;
  double predicted_throughput = 0; // operations/s
  double predicted_latency_ms = 0;
  double confidence = 0; // 0..1
  std::string model;     // which model answered

  bool operator==(const prediction&) const = default;
};

/// predict_optimal_batch_size(features, target) for one operation type.
struct prediction_request {
  std::string op_type;
  feature_vector features;
  optimization_target target;

  bool operator==(const prediction_request&) const = default;
};

/// A model actor's answer to training: leave-one-out scores, importances
/// and the trained model's bytes (the optimizer keeps them as the last good
/// model). `trained` false: too few or unusable samples, nothing changed.
struct model_report {
  std::string op_type;
  bool trained = false;
  double throughput_r2 = 0;
  double throughput_mae = 0; // items/s
  double latency_r2 = 0;
  double latency_mae = 0; // ms
  std::uint64_t samples = 0;
  std::map<std::string, double> importances; // by feature name
  std::string model;                         // response_model::save bytes

  bool operator==(const model_report&) const = default;
};

/// What the optimizer has learned (the seed's get_optimization_insights).
struct optimizer_insights {
  std::uint64_t total_predictions = 0;
  double average_confidence = 0;
  // "<type>.throughput_r2", "<type>.latency_mae", "<type>.samples", ...
  std::map<std::string, double> model_scores;
  // "<type>.<feature>": permutation-importance share of the type's model
  std::map<std::string, double> feature_importances;
  std::vector<std::string> recommendations;
  // Model files that could not be loaded, model actors restarted, ...
  std::vector<std::string> warnings;

  bool operator==(const optimizer_insights&) const = default;
};

/// start_ab_test(name, control, test, duration).
struct ab_test_config {
  std::string name;
  std::string control_strategy;
  std::string test_strategy;
  duration length{0};
  /// Only this operation type's batcher runs the arms; empty: every type.
  std::string op_type;

  bool operator==(const ab_test_config&) const = default;
};

/// Latency percentiles in milliseconds.
struct latency_summary {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double mean = 0;
  double max = 0;

  bool operator==(const latency_summary&) const = default;
};

/// A suggestion derived from resource readings (the seed's
/// get_optimization_recommendations).
struct recommendation {
  std::string type; // e.g. "reduce_batch_size", "scale_up"
  std::string text;

  bool operator==(const recommendation&) const = default;
};

/// Trends of every resource over the sampler's window.
struct resource_trends {
  trend cpu = trend::stable;
  trend memory = trend::stable;
  trend network = trend::stable;
  trend disk = trend::stable;

  bool operator==(const resource_trends&) const = default;
};

// -- jobs, batches, outcomes --------------------------------------------------

/// Where a job stands: counts per operation state add up to `total`.
struct job_status {
  std::uint64_t job_id = 0;
  std::string op_type;
  priority prio = priority::normal;
  job_state state = job_state::waiting;
  std::uint64_t total = 0;
  std::uint64_t queued = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  time_point submitted_at;
  time_point started_at;  // epoch while waiting
  time_point finished_at; // epoch while unfinished
  double throughput = 0;  // finished operations/s since started_at
  std::string last_error; // the latest failure's message, if any

  bool operator==(const job_status&) const = default;
};

/// The final outcome of one operation, reported exactly once.
struct operation_finished {
  std::uint64_t operation_id = 0; // the host's id
  std::uint64_t job_id = 0;
  std::uint64_t index = 0;                            // position in its job
  operation_state state = operation_state::succeeded; // a terminal state
  std::uint32_t attempts = 0;
  duration latency{0}; // submission to final outcome
  std::string error;   // empty on success

  bool operator==(const operation_finished&) const = default;
};

/// Operations of one type sent to a backend as one request.
struct batch {
  std::uint64_t batch_id = 0;
  std::string op_type;
  std::string backend;
  std::vector<operation> operations;
  std::uint32_t attempt = 1; // 1 for the first try of every operation in it
  time_point created_at;
  duration timeout{0}; // how long the executor may take

  bool operator==(const batch&) const = default;
};

/// An executor's verdict on one operation of a batch.
struct item_result {
  std::uint64_t operation_id = 0;
  item_status status = item_status::ok;
  std::string detail; // error text, or the backend's per-item answer

  bool operator==(const item_result&) const = default;
};

/// What a backend's rate-limit headers advertise (rate_limit_headers.hpp:
/// the binding policy); a negative field is not advertised.
struct rate_limit_advice {
  double quota = -1;     // requests per window
  double window_s = -1;  // the window's length in seconds
  double remaining = -1; // requests left until the reset
  double reset_s = -1;   // seconds until the quota is restored

  bool any() const {
    return quota >= 0 || window_s >= 0 || remaining >= 0 || reset_s >= 0;
  }

  bool operator==(const rate_limit_advice&) const = default;
};

/// An executor's answer for a whole batch.
struct batch_outcome {
  std::uint64_t batch_id = 0;
  batch_status status = batch_status::ok;
  duration retry_after{0}; // from Retry-After when throttled
  duration latency{0};     // backend time for the request
  /// Per-operation results in the batch's order (same size as its
  /// operations); empty means every operation shares `status`.
  std::vector<item_result> items;
  std::string message;      // backend or executor error text
  rate_limit_advice advice; // what the answer's rate-limit headers said

  bool operator==(const batch_outcome&) const = default;
};

/// Upper bounds of the item-latency histogram buckets in metrics, in ms.
inline constexpr std::array<double, 14> latency_bucket_bounds_ms{
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000};

/// One batcher's figures.
struct batching_metrics {
  std::string op_type;
  strategy_kind strategy = strategy_kind::adaptive;
  std::uint32_t current_batch_size = 0;
  std::uint32_t in_flight_batches = 0;
  std::uint64_t queue_depth = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t throttled = 0;   // requests answered 429
  double average_throughput = 0; // operations/s
  double average_latency_ms = 0;
  double p50_latency_ms = 0;
  double p99_latency_ms = 0;
  double request_rate = 0; // requests/s allowed by the pacer
  breaker_state breaker = breaker_state::closed;
  bool circuit_breaker_active = false; // breaker not closed
  std::uint64_t requests = 0;          // requests answered (any status)
  /// Item latencies: finished operations at most latency_bucket_bounds_ms[i]
  /// (cumulative, Prometheus style), their count and sum.
  std::vector<std::uint64_t> latency_buckets;
  std::uint64_t latency_count = 0;
  double latency_sum_ms = 0;

  bool operator==(const batching_metrics&) const = default;
};

// -- executors ----------------------------------------------------------------

/// Host code that runs one batch against a backend and returns its outcome.
using sync_callback = std::function<batch_outcome(const batch&)>;

/// Completes one batch; call it once, from any thread.
using completion = std::function<void(batch_outcome)>;

/// Host code that starts a batch and completes it later through the handle.
using async_callback = std::function<void(const batch&, completion)>;

/// analyze_ab_test: per-arm means, improvement and Welch's t-test.
struct ab_test_result {
  std::string test_id;
  std::string name;
  std::string control_strategy;
  std::string test_strategy;
  std::uint64_t control_samples = 0;
  std::uint64_t test_samples = 0;
  /// The batch means the p-value was computed on (runtime/policy/ab_test.hpp).
  std::uint64_t control_batches = 0;
  std::uint64_t test_batches = 0;
  double control_mean = 0;
  double test_mean = 0;
  double improvement_percent = 0;
  double p_value = 1;
  ab_recommendation recommendation = ab_recommendation::inconclusive;

  bool operator==(const ab_test_result&) const = default;
};

/// What a load generator played.
struct play_report {
  std::uint64_t jobs = 0;
  std::uint64_t operations = 0;          // submitted and admitted
  std::uint64_t rejected_operations = 0; // in jobs the coordinator refused

  bool operator==(const play_report&) const = default;
};

/// Names one operation: its job and its position in the job.
struct op_ref {
  std::uint64_t job_id = 0;
  std::uint64_t index = 0;

  bool operator==(const op_ref&) const = default;
};

/// What a batcher reports to the coordinator after handling a message:
/// operations that left in a request, that came back to its queue
/// (throttled, retrying), and that reached their final state.
struct operation_events {
  std::vector<op_ref> sent;
  std::vector<op_ref> requeued;
  std::vector<operation_finished> finished;

  bool empty() const {
    return sent.empty() && requeued.empty() && finished.empty();
  }

  bool operator==(const operation_events&) const = default;
};

} // namespace batching
