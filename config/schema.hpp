#pragma once

// The configuration schema, written once: `visit` lists every key of every
// config struct with its range, unit and meaning, CAF-inspect style. The
// reader (YAML -> struct, with positioned errors), the emitters (YAML, JSON)
// and the key reference in docs/configuration.md are visitors over it, so a
// key cannot exist in one of them and not in the others.
//
// A visitor provides:
//   scalar(key, field&, bounds, unit, doc)   numbers
//   choice(key, enum_field&, doc)            named enums
//   name(key, std::string&, doc)             a name (lowercase identifier)
//   section(key, sub&, doc)                  nested mapping
//   map(key, std::map<std::string, T>&, doc) mapping of named entries
//   text(key, std::string&, doc)             free text
//   texts(key, std::map<std::string, std::string>&, doc)
//                                            mapping of free texts

#include <limits>
#include <string>
#include <string_view>

#include "runtime/policy/settings.hpp"
#include "runtime/policy/text.hpp"

namespace batching::config {

/// Inclusive numeric range; `min_open` excludes the minimum itself.
struct bounds {
  double min = 0;
  double max = std::numeric_limits<double>::max();
  bool min_open = false;
};

/// "[1, 100000]", or "(0, 1]" when the minimum is excluded.
inline std::string to_string(const bounds& b) {
  // Appended piecewise: g++ 12 -O3 flags the `+` chain with a false -Wrestrict.
  std::string result = b.min_open ? "(" : "[";
  result += format_number(b.min);
  result += ", ";
  result += format_number(b.max);
  result += ']';
  return result;
}

inline constexpr bounds percent{0, 100};
inline constexpr bounds positive_seconds{0, 86'400, true};
inline constexpr bounds any_seconds{0, 86'400};
inline constexpr bounds batch_items{1, 100'000};

template <class V>
void visit(circuit_breaker_config& x, V& v) {
  v.scalar("failure_threshold", x.failure_threshold, bounds{1, 1'000'000},
           "requests",
           "Consecutive failed requests (HTTP 429 excluded) that open the "
           "breaker.");
  v.scalar("timeout_seconds", x.timeout_seconds, positive_seconds, "s",
           "Longest time the breaker stays open before half-open trials.");
  v.scalar("initial_timeout_seconds", x.initial_timeout_seconds,
           positive_seconds, "s",
           "Open time after the first opening; doubles with each failed "
           "half-open trial, up to timeout_seconds.");
  v.scalar("recovery_attempts", x.recovery_attempts, bounds{1, 1'000},
           "requests", "Successful half-open trials that close the breaker.");
}

template <class V>
void visit(batching_config& x, V& v) {
  v.scalar("min_batch_size", x.min_batch_size, batch_items, "items",
           "Smallest batch any strategy may choose.");
  v.scalar("max_batch_size", x.max_batch_size, batch_items, "items",
           "Largest batch any strategy may choose.");
  v.scalar("target_response_time", x.target_response_time_ms,
           bounds{0, 3'600'000, true}, "ms",
           "Item latency (submit to outcome) the strategies steer towards.");
  v.scalar("max_error_rate", x.max_error_rate, bounds{0, 1}, "fraction",
           "Request error rate above which strategies shrink batches.");
  v.scalar("adaptation_sensitivity", x.adaptation_sensitivity,
           bounds{0, 1, true}, "fraction",
           "Share of the gap to the desired batch size closed per step.");
  v.scalar("linger_ms", x.linger_ms, bounds{0, 60'000}, "ms",
           "Longest time the oldest queued item waits for its batch to fill.");
  v.section("circuit_breaker", x.circuit_breaker,
            "Circuit breaker per backend.");
}

template <class V>
void visit(operation_type_config& x, V& v) {
  v.scalar("preferred_batch_size", x.preferred_batch_size, batch_items, "items",
           "Batch size a strategy starts from.");
  v.scalar("max_batch_size", x.max_batch_size, batch_items, "items",
           "Largest batch for this type (also bounded by "
           "batching.max_batch_size).");
  v.choice("strategy", x.strategy, "Batch-size strategy for this type.");
  v.scalar("timeout_multiplier", x.timeout_multiplier, bounds{0, 1'000, true},
           "factor", "Scales the executor timeout for this type's batches.");
  v.name("backend", x.backend,
         "The backend (a key of `backends`) this type's requests go to; "
         "types on one backend share its request budget.");
}

template <class V>
void visit(http_backend_config& x, V& v) {
  v.text("url", x.url,
         "http:// or https:// URL each batch is sent to by `batching serve` "
         "and `batching run`; empty: the host supplies the executor.");
  v.text("method", x.method, "HTTP method of each request.");
  v.texts("headers", x.headers,
          "Extra request headers, e.g. Authorization: \"Bearer ...\".");
  v.text("body_template", x.body_template,
         "Request body; {{operations}} is the JSON array of the payloads, "
         "{{payloads}} the same without brackets, {{ids}}, {{count}}, "
         "{{op_type}}, {{batch_id}} and {{attempt}} as named.");
  v.text("content_type", x.content_type, "Content-Type of each request.");
  v.scalar("max_connections", x.max_connections, bounds{1, 10'000},
           "connections",
           "Keep-alive connections to the backend at most (each carries one "
           "request at a time).");
  v.scalar("connect_timeout_seconds", x.connect_timeout_seconds,
           positive_seconds, "s",
           "How long connecting (and the TLS handshake) may take.");
  v.text("results_key", x.results_key,
         "Key of a 2xx JSON response's per-item results array (in the "
         "operations' order); empty: the status covers every item.");
  v.text("ca_file", x.ca_file,
         "PEM file of the CA that signs an https backend's certificate; "
         "empty: the system's trusted CAs.");
}

template <class V>
void visit(server_config& x, V& v) {
  v.text("listen", x.listen,
         "host:port `batching serve` binds (loopback by default).");
  v.text("token", x.token,
         "Bearer token every mutating endpoint requires; empty: none. "
         "BATCHING_SERVER_TOKEN overrides it.");
  v.scalar("max_body_bytes", x.max_body_bytes, bounds{1, 1e10}, "bytes",
           "Largest request body accepted (413 beyond).");
  v.scalar("max_operations_per_job", x.max_operations_per_job, bounds{1, 1e9},
           "operations",
           "Most operations one POST /v1/jobs may carry (413 beyond).");
}

template <class V>
void visit(cluster_config& x, V& v) {
  v.choice("role", x.role,
           "none (stand-alone), member (shares the budget), authority, "
           "coordinator (authority + jobs for workers), worker.");
  v.text("listen", x.listen,
         "host:port an authority or coordinator publishes itself on (that "
         "address only; port 0 picks a free one).");
  v.text("join", x.join,
         "host:port of the authority or coordinator a member or worker "
         "joins.");
  v.text("node", x.node, "This node's name; empty: host name and pid.");
  v.choice("transport", x.transport,
           "tls (certificates below), or plain_tcp for loopback testing "
           "only.");
  v.text("certificate", x.certificate, "PEM file of this node's certificate.");
  v.text("key", x.key, "PEM file of this node's private key.");
  v.text("passphrase", x.passphrase,
         "The key's passphrase, if any; BATCHING_TLS_PASSPHRASE overrides.");
  v.text("ca_file", x.ca_file,
         "PEM file of the CA that must have signed every peer's "
         "certificate.");
  v.scalar("peer_timeout_seconds", x.peer_timeout_seconds, bounds{0.5, 3600},
           "s",
           "A peer silent this long (crashed, frozen) is lost and its work "
           "moved.");
}

template <class V>
void visit(journal_config& x, V& v) {
  v.text("path", x.path,
         "SQLite file of the job journal; empty: none (the embedding API's "
         "default; `serve` and a coordinator node use batching.journal).");
  v.choice("sync", x.sync,
           "full: what was acknowledged survives a power loss; normal: it "
           "survives a crash of the process, not of the machine.");
  v.scalar("retention_seconds", x.retention_seconds, bounds{0, 1e9}, "s",
           "How long a finished job's status stays in the journal.");
}

template <class V>
void visit(backend_config& x, V& v) {
  v.scalar("max_items_per_request", x.max_items_per_request, batch_items,
           "items", "Items one request may carry (Notion: 100).");
  v.scalar("max_request_bytes", x.max_request_bytes, bounds{1, 1e12}, "bytes",
           "Payload bytes one request may carry (Notion: 500 KB); a larger "
           "single operation fails at once.");
  v.scalar("max_in_flight", x.max_in_flight, bounds{1, 10'000}, "requests",
           "Requests to this backend in flight at once (at most; the "
           "pacer halves what it allows at each timeout or 5xx and adds "
           "one back per success).");
  v.scalar("initial_requests_per_second", x.initial_requests_per_second,
           bounds{0, 1e9}, "requests/s",
           "The pacer's starting rate, a guess near the budget: doubled "
           "once after an epoch without a 429 (ten requests; a second's "
           "worth above 10/s, ten seconds' below 1/s but three requests at "
           "least), then probed upward until a 429 measures the "
           "sustainable rate. 0 starts unpaced until the first HTTP 429.");
  v.choice("flow_control", x.flow_control,
           "Who decides when the next request leaves: `pacer` (ours, "
           "learns the request budget), `fixed` (initial_requests_per_second "
           "forever) or a peer algorithm of docs/simulation.md for "
           "comparisons.");
  v.scalar("request_timeout_seconds", x.request_timeout_seconds,
           positive_seconds, "s",
           "How long one request may take before it counts as a retryable "
           "failure (times the type's timeout_multiplier).");
  v.scalar("max_attempts", x.max_attempts, bounds{1, 1'000}, "attempts",
           "Attempts per operation before a retryable failure is final.");
  v.scalar("retry_base_ms", x.retry_base_ms, bounds{0, 3'600'000}, "ms",
           "Backoff before retry n is min(retry_max_ms, retry_base_ms * "
           "2^(n-1)) times a seeded jitter in [0.5, 1.5).");
  v.scalar("retry_max_ms", x.retry_max_ms, bounds{0, 3'600'000}, "ms",
           "Longest backoff between attempts.");
  v.section("http", x.http, "The HTTP executor of this backend.");
}

template <class V>
void visit(coordinator_config& x, V& v) {
  v.scalar("max_concurrent_jobs", x.max_concurrent_jobs, bounds{1, 1'000'000},
           "jobs",
           "Jobs batched at once; more wait, ordered by priority. Halved "
           "while a critical resource alert lasts.");
  v.scalar("max_queued_operations", x.max_queued_operations, bounds{1, 1e12},
           "operations",
           "Unfinished operations across all jobs; a job that would exceed "
           "it is rejected whole.");
  v.scalar("finished_job_retention_seconds", x.finished_job_retention_seconds,
           bounds{0, 1e7}, "s",
           "How long a finished job's status stays queryable; older ones are "
           "forgotten (unknown_job) so memory stays bounded.");
}

template <class V>
void visit(threshold_levels& x, V& v) {
  v.scalar("warning", x.warning, percent, "%", "Level of a warning alert.");
  v.scalar("critical", x.critical, percent, "%", "Level of a critical alert.");
  v.scalar("sustained_seconds", x.sustained_seconds, any_seconds, "s",
           "How long a level must hold before an alert is raised or "
           "cleared.");
}

template <class V>
void visit(resource_thresholds_config& x, V& v) {
  v.section("cpu", x.cpu, "CPU usage of all cores.");
  v.section("memory", x.memory, "Used share of physical memory.");
  v.section("network", x.network,
            "Network traffic as a share of network_capacity_mbit_s.");
  v.section("disk", x.disk, "Share of time the disks are busy.");
  v.scalar("network_capacity_mbit_s", x.network_capacity_mbit_s,
           bounds{0, 1e7, true}, "Mbit/s",
           "Link capacity that network percentages refer to.");
}

template <class V>
void visit(scaling_rule& x, V& v) {
  v.scalar("cpu_threshold", x.cpu_threshold, percent, "%",
           "CPU usage that triggers the rule.");
  v.scalar("sustained_duration_seconds", x.sustained_duration_seconds,
           any_seconds, "s", "How long CPU must stay beyond the threshold.");
}

template <class V>
void visit(scaling_config& x, V& v) {
  v.section("scale_up", x.scale_up,
            "CPU at or above the threshold for the duration recommends "
            "scaling up (more capacity).");
  v.section("scale_down", x.scale_down,
            "CPU at or below the threshold for the duration recommends "
            "scaling down (less capacity).");
}

template <class V>
void visit(sampling_config& x, V& v) {
  v.scalar("interval_seconds", x.interval_seconds, bounds{0.01, 3'600}, "s",
           "Resource sampling period.");
  v.scalar("trend_window_seconds", x.trend_window_seconds, bounds{1, 604'800},
           "s", "Window over which trends are computed.");
}

template <class V>
void visit(optimizer_config& x, V& v) {
  v.text("model_dir", x.model_dir,
         "Directory the models are saved to and loaded from at start "
         "(<dir>/<type>.model); empty keeps them in memory only.");
  v.scalar("min_confidence", x.min_confidence, bounds{0, 1}, "fraction",
           "Predictions below this confidence leave sizing to `adaptive`.");
  v.scalar("sample_period_seconds", x.sample_period_seconds, bounds{0.1, 3'600},
           "s", "Length of the window one training sample summarizes.");
  v.scalar("retrain_every", x.retrain_every, bounds{1, 1'000'000}, "samples",
           "New samples of a type that trigger its next training (at least "
           "a tenth of the samples held).");
  v.scalar("max_samples", x.max_samples, bounds{20, 1'000'000}, "samples",
           "Most recent samples kept per type for training.");
  v.choice("priority", x.priority,
           "What predictions aim for: `throughput` (most items/s within the "
           "latency target), `latency` (least latency keeping 90% of the "
           "throughput) or `balanced` (keeping 95%).");
  v.flag("train_every_type", x.train_every_type,
         "Every type's sample windows train its model (predictions for any "
         "type); only `ml` types follow them. false: only `ml` types train.");
}

template <class V>
void visit(performance_targets_config& x, V& v) {
  v.scalar("throughput_improvement_percent", x.throughput_improvement_percent,
           bounds{0, 10'000}, "%",
           "Goodput gain over the static baseline to reach.");
  v.scalar("resource_efficiency_percent", x.resource_efficiency_percent,
           percent, "%", "Resource use reduction over the baseline.");
  v.scalar("success_rate_without_throttling_percent",
           x.success_rate_without_throttling_percent, percent, "%",
           "Share of requests that must succeed without HTTP 429.");
  v.scalar("average_response_time_ms", x.average_response_time_ms,
           bounds{0, 3'600'000, true}, "ms", "Average item latency to keep.");
  v.scalar("p99_response_time_ms", x.p99_response_time_ms,
           bounds{0, 3'600'000, true}, "ms", "p99 item latency to keep.");
  v.scalar("stability_percent", x.stability_percent, percent, "%",
           "Uptime under varying load.");
  v.scalar("adaptation_seconds", x.adaptation_seconds, bounds{0, 3'600, true},
           "s", "Time within which batch sizing must respond to a change.");
  v.scalar("load_multiplier", x.load_multiplier, bounds{1, 1'000}, "factor",
           "Multiple of normal load the system must withstand.");
}

template <class V>
void visit(alerting_config& x, V& v) {
  v.flag("enabled", x.enabled,
         "POST resource alerts to the webhooks (docs/metrics.md).");
  v.flag("email_notifications", x.email_notifications,
         "The seed's key: accepted with a warning; no e-mail is sent (use a "
         "webhook).");
  v.texts("webhooks", x.webhooks,
          "Webhooks by name: the http:// or https:// URL each notification "
          "is POSTed to.");
  v.texts("headers", x.headers,
          "Extra headers of every webhook request (e.g. Authorization).");
  v.choice("min_level", x.min_level,
           "The least severe level sent: warning or critical (a clearing of "
           "a sent alert always goes).");
  v.scalar("min_interval_seconds", x.min_interval_seconds, bounds{0, 86'400},
           "s",
           "Per resource, at most one notification per interval; a more "
           "severe level goes at once.");
  v.scalar("max_attempts", x.max_attempts, bounds{1, 100}, "attempts",
           "Deliveries of one notification to one webhook before giving up.");
  v.scalar("retry_backoff_seconds", x.retry_backoff_seconds,
           bounds{0.001, 3'600}, "s",
           "First wait after a failed delivery; doubling, at most 60 s.");
  v.scalar("timeout_seconds", x.timeout_seconds, bounds{0.01, 600}, "s",
           "How long one delivery may take (connect and answer).");
}

template <class V>
void visit(monitoring_config& x, V& v) {
  v.section("alerting", x.alerting, "Alert notifications to webhooks.");
}

/// The root: the sections of all three files (a file holds any subset).
template <class V>
void visit(runtime_config& x, V& v) {
  v.section("batching", x.batching, "Batch sizes and adaptation.");
  v.map("operation_configs", x.operation_configs,
        "One entry per operation type; read and write exist by default, "
        "other names add custom types.");
  v.map("backends", x.backends,
        "One entry per backend; `default` exists by default.");
  v.section("coordinator", x.coordinator, "Job admission.");
  v.section("resource_thresholds", x.resource_thresholds,
            "Resource alert levels.");
  v.section("scaling", x.scaling, "Scaling rules driven by CPU usage.");
  v.section("sampling", x.sampling, "Resource sampling.");
  v.section("optimizer", x.optimizer,
            "Learned batch sizes (the `ml` strategy) and their models.");
  v.section("server", x.server, "The HTTP API of `batching serve`.");
  v.section("cluster", x.cluster,
            "This process's place in a cluster of nodes sharing budgets.");
  v.section("journal", x.journal,
            "Durability of accepted jobs across crashes (docs/durability.md).");
  v.section("performance_targets", x.performance_targets,
            "The targets benchmarks and reports compare against.");
  v.section("monitoring", x.monitoring,
            "Where resource alerts are sent (docs/metrics.md).");
}

/// The key of the environments section, read by the loader itself.
inline constexpr std::string_view environments_key = "environments";

} // namespace batching::config
