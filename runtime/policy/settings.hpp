#pragma once

// Every tunable of the runtime, one struct per component, with its defaults.
// The component that a struct configures owns it (policies take it in their
// constructor); only config/ reads YAML into these structs, and
// config/*.yaml plus docs/configuration.md list the same keys and defaults
// (tests check both). Units are in the field names.

#include <cstdint>
#include <map>
#include <string>

#include "runtime/policy/types.hpp"

namespace batching {

/// Circuit breaker per backend (closed -> open -> half-open -> closed).
struct circuit_breaker_config {
  /// Consecutive failed requests (429 excluded) that open the breaker.
  std::uint32_t failure_threshold = 5;
  /// Longest time the breaker stays open before half-open trials.
  double timeout_seconds = 300;
  /// Successful half-open trials needed to close again.
  std::uint32_t recovery_attempts = 3;
  /// Open time after the first opening; doubles on each failed trial.
  double initial_timeout_seconds = 5;

  bool operator==(const circuit_breaker_config&) const = default;
};

/// Global batch-size bounds and adaptation signals.
struct batching_config {
  std::uint32_t min_batch_size = 10;
  std::uint32_t max_batch_size = 500;
  /// Item latency the strategies steer towards.
  double target_response_time_ms = 500;
  /// Error rate above which strategies shrink batches.
  double max_error_rate = 0.05;
  /// Fraction of the gap to the desired size closed per adaptation step.
  double adaptation_sensitivity = 0.2;
  /// Longest time the oldest queued item waits for its batch to fill.
  double linger_ms = 50;
  circuit_breaker_config circuit_breaker;

  bool operator==(const batching_config&) const = default;
};

/// How `batching serve` and `batching run` reach a backend over HTTP
/// (docs/http-api.md): one request per batch.
struct http_backend_config {
  /// http:// or https:// URL; empty: the host supplies the executor.
  std::string url;
  std::string method = "POST";
  /// Extra request headers (e.g. Authorization, Notion-Version).
  std::map<std::string, std::string> headers;
  /// The request body; {{operations}} becomes the JSON array of the
  /// operations' payloads (see http_mapping.hpp for every placeholder).
  std::string body_template = "{{operations}}";
  std::string content_type = "application/json";
  /// Keep-alive connections to the backend at most (one per request in
  /// flight).
  std::uint32_t max_connections = 4;
  double connect_timeout_seconds = 5;
  /// Key of a 2xx JSON response's per-item results array (same order as
  /// the operations); empty: the status covers every item.
  std::string results_key;
  /// PEM file of the CA that signs an https backend's certificate; empty:
  /// the system's trusted CAs.
  std::string ca_file;

  bool operator==(const http_backend_config&) const = default;
};

/// A backend: its request limits, its pacer's start and the retry rules of
/// requests to it. Operation types name the backend they use; types sharing
/// a backend share its request budget.
struct backend_config {
  /// Items one request may carry (Notion: 100 children per append).
  std::uint32_t max_items_per_request = 100;
  /// Payload bytes one request may carry (Notion: 500 KB).
  std::uint64_t max_request_bytes = 500'000;
  /// Requests in flight at once.
  std::uint32_t max_in_flight = 4;
  /// The pacer's starting rate; 0 starts unpaced until the first 429.
  double initial_requests_per_second = 3;
  /// Who decides when the next request leaves (flow_control.hpp).
  flow_kind flow_control = flow_kind::pacer;
  /// How long the executor may take for one request.
  double request_timeout_seconds = 30;
  /// Attempts per operation before a retryable failure becomes final.
  std::uint32_t max_attempts = 5;
  /// Backoff before retry n: min(retry_max_ms, retry_base_ms * 2^(n-1)),
  /// times a seeded jitter in [0.5, 1.5).
  double retry_base_ms = 500;
  double retry_max_ms = 30'000;
  http_backend_config http;

  bool operator==(const backend_config&) const = default;
};

/// The backend every operation type uses unless configured otherwise.
inline constexpr const char* default_backend = "default";

/// Per operation type (read, write, or a custom type).
struct operation_type_config {
  std::uint32_t preferred_batch_size = 100;
  std::uint32_t max_batch_size = 500;
  strategy_kind strategy = strategy_kind::adaptive;
  /// Scales the executor timeout for this type's batches.
  double timeout_multiplier = 1.0;
  /// The backend (a key of `backends`) this type's requests go to.
  std::string backend = default_backend;

  bool operator==(const operation_type_config&) const = default;
};

/// Job admission.
struct coordinator_config {
  std::uint32_t max_concurrent_jobs = 10;
  /// Queued operations across all jobs; a job that would exceed it is rejected.
  std::uint64_t max_queued_operations = 1'000'000;
  /// How long a finished job's status stays queryable (bounded memory).
  double finished_job_retention_seconds = 3600;

  bool operator==(const coordinator_config&) const = default;
};

/// Warning and critical levels of one resource, in percent.
struct threshold_levels {
  double warning = 70;
  double critical = 85;
  /// How long a level must hold before an alert is raised (or cleared).
  double sustained_seconds = 30;

  bool operator==(const threshold_levels&) const = default;
};

/// Alert thresholds per resource.
struct resource_thresholds_config {
  threshold_levels cpu{70, 85, 30};
  threshold_levels memory{75, 90, 30};
  /// Network usage is a percentage of network_capacity_mbit_s.
  threshold_levels network{70, 85, 30};
  /// Disk usage is the percentage of time the disks are busy.
  threshold_levels disk{80, 95, 30};
  double network_capacity_mbit_s = 1000;

  bool operator==(const resource_thresholds_config&) const = default;
};

/// One scaling rule: act when cpu stays beyond the threshold long enough.
struct scaling_rule {
  double cpu_threshold = 75;
  double sustained_duration_seconds = 180;

  bool operator==(const scaling_rule&) const = default;
};

/// Auto-scaling of concurrency from resource pressure.
struct scaling_config {
  scaling_rule scale_up{75, 180};
  scaling_rule scale_down{30, 300};

  bool operator==(const scaling_config&) const = default;
};

/// Resource sampler period and trend window.
struct sampling_config {
  double interval_seconds = 1.0;
  double trend_window_seconds = 300;

  bool operator==(const sampling_config&) const = default;
};

/// The optimizer: what batchers of `ml` types learn from and how the
/// models are trained, kept and trusted.
struct optimizer_config {
  /// Directory of the saved models (<dir>/<type>.model); empty: no files.
  std::string model_dir;
  /// Predictions below this confidence leave sizing to `adaptive`.
  double min_confidence = 0.6;
  /// Length of the window one training sample summarizes.
  double sample_period_seconds = 0.5;
  /// New samples of a type that trigger its next training (at least a
  /// tenth of the samples held).
  std::uint32_t retrain_every = 10;
  /// Most recent samples kept per type (older ones are forgotten, so the
  /// model follows a changing backend).
  std::uint32_t max_samples = 2000;
  /// What predictions aim for: throughput, latency or balanced.
  target_priority priority = target_priority::balanced;
  /// Every operation type's sample windows train its model, so predictions
  /// carry an honest confidence for any type; only `ml` types follow them.
  /// Off: only `ml` types train.
  bool train_every_type = true;

  bool operator==(const optimizer_config&) const = default;
};

/// `batching serve`: the HTTP API in front of the runtime.
struct server_config {
  /// host:port to bind; loopback unless changed on purpose.
  std::string listen = "127.0.0.1:8080";
  /// Bearer token every mutating endpoint requires; empty: none.
  std::string token;
  std::uint64_t max_body_bytes = 16'000'000;
  std::uint64_t max_operations_per_job = 100'000;

  bool operator==(const server_config&) const = default;
};

/// The job journal (docs/durability.md): every accepted job is durable
/// before it is acknowledged, and replayed after a restart.
struct journal_config {
  /// SQLite file; empty: no journal (the embedding API's default; `serve`
  /// and a coordinator node default to batching.journal in the working
  /// directory).
  std::string path;
  journal_sync sync = journal_sync::full;
  /// How long a finished job's status stays in the journal.
  double retention_seconds = 3600;

  bool operator==(const journal_config&) const = default;
};

/// This process's place among batching nodes sharing each backend's
/// budget (docs/deployment.md); `batching node` flags override it.
struct cluster_config {
  cluster_role role = cluster_role::none;
  /// host:port an authority or coordinator publishes itself on (that
  /// address only; port 0: a free one).
  std::string listen = "127.0.0.1:0";
  /// host:port of the authority or coordinator a member or worker joins.
  std::string join;
  /// This node's name in the cluster; empty: host name and pid.
  std::string node;
  cluster_transport transport = cluster_transport::tls;
  /// PEM files: this node's certificate and key, and the CA every peer's
  /// certificate must be signed by.
  std::string certificate;
  std::string key;
  std::string passphrase; // of the key; BATCHING_TLS_PASSPHRASE overrides
  std::string ca_file;
  /// A peer silent this long (crashed, frozen, cut off) is lost.
  double peer_timeout_seconds = 2;

  bool operator==(const cluster_config&) const = default;
};

/// The seed's performance targets, used by benchmarks and reports.
struct performance_targets_config {
  double throughput_improvement_percent = 40;
  double resource_efficiency_percent = 30;
  double success_rate_without_throttling_percent = 95;
  double average_response_time_ms = 500;
  double p99_response_time_ms = 1000;
  double stability_percent = 99.5;
  double adaptation_seconds = 5;
  double load_multiplier = 10;

  bool operator==(const performance_targets_config&) const = default;
};

/// The operation types every runtime has unless the configuration changes
/// them: the seed's read and write sizes, both sized by `adaptive`, the
/// best measured on the limiter zoo (docs/benchmarks.md: the seed's
/// `aggressive` and `balanced` reach a median of 12-14% of the budget there,
/// adaptive 84-85%).
inline std::map<std::string, operation_type_config>
default_operation_configs() {
  return {
    {"read", {100, 500, strategy_kind::adaptive, 1.0, default_backend}},
    {"write", {50, 500, strategy_kind::adaptive, 1.0, default_backend}},
  };
}

/// The backends every runtime has unless the configuration changes them.
inline std::map<std::string, backend_config> default_backends() {
  return {{default_backend, backend_config{}}};
}

/// Alert notifications (docs/metrics.md, runtime/policy/alert_dispatch.hpp).
struct alerting_config {
  bool enabled = false;
  /// The seed's key: accepted, but no e-mail is sent (a warning says what
  /// to use instead).
  bool email_notifications = false;
  /// Webhooks by name: the URL each notification is POSTed to.
  std::map<std::string, std::string> webhooks;
  /// Extra headers of every webhook request (e.g. Authorization).
  std::map<std::string, std::string> headers;
  alert_level min_level = alert_level::warning;
  double min_interval_seconds = 300;
  std::uint32_t max_attempts = 5;
  double retry_backoff_seconds = 1;
  double timeout_seconds = 5;

  bool operator==(const alerting_config&) const = default;
};

struct monitoring_config {
  alerting_config alerting;

  bool operator==(const monitoring_config&) const = default;
};

/// The whole configuration (the three YAML files merged).
struct runtime_config {
  batching_config batching;
  std::map<std::string, operation_type_config> operation_configs
    = default_operation_configs();
  std::map<std::string, backend_config> backends = default_backends();
  coordinator_config coordinator;
  resource_thresholds_config resource_thresholds;
  scaling_config scaling;
  sampling_config sampling;
  optimizer_config optimizer;
  server_config server;
  cluster_config cluster;
  journal_config journal;
  performance_targets_config performance_targets;
  monitoring_config monitoring;

  bool operator==(const runtime_config&) const = default;
};

} // namespace batching
