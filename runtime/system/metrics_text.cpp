#include "runtime/system/metrics_text.hpp"

#include <functional>

#include "runtime/policy/text.hpp"

namespace batching {

namespace {

// Label values escape backslash, double quote and newline.
std::string label_value(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double x) { return format_number(x); }

class writer {
public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(const std::string& name, const std::string& labels, double x) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(x);
    out_ += '\n';
  }

  // One family with one unlabelled sample.
  void single(const char* name, const char* type, const char* help, double x) {
    family(name, type, help);
    sample(name, "", x);
  }

  // One family with a sample per operation type.
  void per_type(const dashboard& d, const char* name, const char* type,
                const char* help,
                const std::function<double(const batching_metrics&)>& get) {
    family(name, type, help);
    for (const auto& m : d.batching)
      sample(name, type_label(m), get(m));
  }

  static std::string type_label(const batching_metrics& m) {
    return "op_type=\"" + label_value(m.op_type) + "\"";
  }

  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

} // namespace

std::string prometheus_text(const dashboard& d,
                            const std::optional<resource_trends>& trends,
                            const std::vector<recommendation>& advice) {
  writer w;
  using m_t = batching_metrics;
  w.per_type(d, "batching_batch_size", "gauge",
             "Size the batcher's strategy chooses for its next batch (items).",
             [](const m_t& m) { return m.current_batch_size; });
  w.per_type(d, "batching_in_flight_batches", "gauge",
             "Batches sent and not yet answered.",
             [](const m_t& m) { return m.in_flight_batches; });
  w.per_type(d, "batching_queue_depth", "gauge",
             "Operations queued in the batcher.",
             [](const m_t& m) { return static_cast<double>(m.queue_depth); });
  w.per_type(d, "batching_items_succeeded_total", "counter",
             "Operations that finished successfully.",
             [](const m_t& m) { return static_cast<double>(m.succeeded); });
  w.per_type(d, "batching_items_failed_total", "counter",
             "Operations that finished failed.",
             [](const m_t& m) { return static_cast<double>(m.failed); });
  w.per_type(d, "batching_requests_total", "counter",
             "Requests answered by the backend (any status).",
             [](const m_t& m) { return static_cast<double>(m.requests); });
  w.per_type(d, "batching_requests_throttled_total", "counter",
             "Requests the backend throttled (HTTP 429/503).",
             [](const m_t& m) { return static_cast<double>(m.throttled); });
  w.per_type(d, "batching_request_rate_per_second", "gauge",
             "Requests per second the pacer currently allows the backend.",
             [](const m_t& m) { return m.request_rate; });
  w.per_type(d, "batching_goodput_items_per_second", "gauge",
             "Succeeded operations per second since the first success.",
             [](const m_t& m) { return m.average_throughput; });
  w.per_type(d, "batching_circuit_breaker_state", "gauge",
             "Circuit breaker of the type's backend: 0 closed, 1 open, 2 "
             "half-open.",
             [](const m_t& m) { return static_cast<double>(m.breaker); });

  const char* hist = "batching_item_latency_seconds";
  w.family(hist, "histogram",
           "Item latency from submission to the final outcome.");
  for (const auto& m : d.batching) {
    auto labels = writer::type_label(m);
    for (std::size_t i = 0; i < latency_bucket_bounds_ms.size(); ++i) {
      auto n = i < m.latency_buckets.size() ? m.latency_buckets[i] : 0;
      w.sample(std::string{hist} + "_bucket",
               labels + ",le=\"" + number(latency_bucket_bounds_ms[i] / 1000)
                 + "\"",
               static_cast<double>(n));
    }
    w.sample(std::string{hist} + "_bucket", labels + ",le=\"+Inf\"",
             static_cast<double>(m.latency_count));
    w.sample(std::string{hist} + "_sum", labels, m.latency_sum_ms / 1000);
    w.sample(std::string{hist} + "_count", labels,
             static_cast<double>(m.latency_count));
  }

  const auto& c = d.coordinator;
  w.single("batching_jobs_active", "gauge", "Jobs being batched.",
           static_cast<double>(c.active_jobs));
  w.single("batching_jobs_waiting", "gauge",
           "Admitted jobs waiting for a slot.",
           static_cast<double>(c.waiting_jobs));
  w.single("batching_jobs_completed_total", "counter", "Jobs finished.",
           static_cast<double>(c.completed_jobs));
  w.single("batching_operations_queued", "gauge",
           "Unfinished operations in all jobs.",
           static_cast<double>(c.queued_operations));
  w.single("batching_cluster_worker_nodes", "gauge",
           "Worker nodes serving this coordinator (docs/deployment.md).",
           static_cast<double>(c.worker_nodes));
  w.single("batching_cluster_lost_nodes_total", "counter",
           "Worker nodes lost; their operations moved to the others.",
           static_cast<double>(c.lost_nodes));
  w.single("batching_cluster_stale_reports_total", "counter",
           "Operation reports from lost nodes, dropped.",
           static_cast<double>(c.stale_events));
  w.single("batching_actor_restarts_total", "counter",
           "Executors, gates and batchers the supervisor restarted.",
           static_cast<double>(c.actor_restarts));

  const auto& r = d.resources;
  w.family("batching_resource_usage_ratio", "gauge",
           "Machine resource usage, 0 to 1 (cpu, memory, disk busy time).");
  w.sample("batching_resource_usage_ratio", "resource=\"cpu\"",
           r.cpu_percent / 100);
  w.sample("batching_resource_usage_ratio", "resource=\"memory\"",
           r.memory_percent / 100);
  w.sample("batching_resource_usage_ratio", "resource=\"disk\"",
           r.disk_busy_percent / 100);
  w.family("batching_network_bytes_per_second", "gauge",
           "Network traffic of all non-loopback interfaces.");
  w.sample("batching_network_bytes_per_second", "direction=\"rx\"",
           r.net_rx_bytes_per_s);
  w.sample("batching_network_bytes_per_second", "direction=\"tx\"",
           r.net_tx_bytes_per_s);
  w.family("batching_disk_bytes_per_second", "gauge",
           "Disk traffic of all whole disks.");
  w.sample("batching_disk_bytes_per_second", "direction=\"read\"",
           r.disk_read_bytes_per_s);
  w.sample("batching_disk_bytes_per_second", "direction=\"write\"",
           r.disk_write_bytes_per_s);
  w.single("batching_resource_alerts_active", "gauge",
           "Resource alerts currently raised.",
           static_cast<double>(d.active_alerts.size()));
  if (trends) {
    w.family("batching_resource_trend", "gauge",
             "Resource trend over sampling.trend_window_seconds: -1 "
             "decreasing, 0 stable, 1 increasing.");
    auto direction = [](trend t) {
      return t == trend::increasing ? 1.0 : t == trend::decreasing ? -1.0 : 0.0;
    };
    w.sample("batching_resource_trend", "resource=\"cpu\"",
             direction(trends->cpu));
    w.sample("batching_resource_trend", "resource=\"memory\"",
             direction(trends->memory));
    w.sample("batching_resource_trend", "resource=\"network\"",
             direction(trends->network));
    w.sample("batching_resource_trend", "resource=\"disk\"",
             direction(trends->disk));
    std::map<std::string, double> by_type;
    for (const auto& a : advice)
      by_type[a.type] += 1;
    w.family("batching_recommendations", "gauge",
             "Current recommendations by type (GET /v1/recommendations has "
             "their text).");
    for (const auto& [type, n] : by_type)
      w.sample("batching_recommendations", "type=\"" + label_value(type) + "\"",
               n);
  }
  return w.take();
}

} // namespace batching
