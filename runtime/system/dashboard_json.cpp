#include "runtime/system/dashboard_json.hpp"

#include <boost/json.hpp>

#include "runtime/policy/version.hpp"

namespace batching {

namespace {

boost::json::object to_json(const resource_alert& a) {
  return {{"level", to_string(a.level)},
          {"resource", to_string(a.resource)},
          {"value", a.value},
          {"threshold", a.threshold},
          {"message", a.message}};
}

} // namespace

boost::json::value to_json(const job_status& s) {
  return boost::json::object{{"job_id", s.job_id},
                             {"op_type", s.op_type},
                             {"priority", to_string(s.prio)},
                             {"status", to_string(s.state)},
                             {"total", s.total},
                             {"queued", s.queued},
                             {"in_flight", s.in_flight},
                             {"succeeded", s.succeeded},
                             {"failed", s.failed},
                             {"cancelled", s.cancelled},
                             {"throughput", s.throughput},
                             {"last_error", s.last_error}};
}

boost::json::value to_json(const dashboard& d) {
  boost::json::object batching;
  for (const auto& m : d.batching) {
    boost::json::array bounds, cumulative;
    for (std::size_t i = 0; i < latency_bucket_bounds_ms.size(); ++i) {
      bounds.push_back(latency_bucket_bounds_ms[i]);
      cumulative.push_back(i < m.latency_buckets.size() ? m.latency_buckets[i]
                                                        : 0);
    }
    batching[m.op_type] = boost::json::object{
      {"strategy", to_string(m.strategy)},
      {"current_batch_size", m.current_batch_size},
      {"in_flight_batches", m.in_flight_batches},
      {"queue_depth", m.queue_depth},
      {"succeeded", m.succeeded},
      {"failed", m.failed},
      {"throttled", m.throttled},
      {"average_throughput", m.average_throughput},
      {"average_latency_ms", m.average_latency_ms},
      {"p50_latency_ms", m.p50_latency_ms},
      {"p99_latency_ms", m.p99_latency_ms},
      {"request_rate", m.request_rate},
      {"circuit_breaker_state", to_string(m.breaker)},
      {"circuit_breaker_active", m.circuit_breaker_active},
      {"requests", m.requests},
      {"latency_histogram",
       {{"bounds_ms", std::move(bounds)},
        {"cumulative", std::move(cumulative)},
        {"count", m.latency_count},
        {"sum_ms", m.latency_sum_ms}}}};
  }
  boost::json::array alerts;
  for (const auto& a : d.active_alerts)
    alerts.push_back(to_json(a));
  const auto& c = d.coordinator;
  const auto& p = d.performance;
  const auto& r = d.resources;
  return boost::json::object{
    // Seconds on the runtime's steady clock: rates between two dashboards
    // are differences over this, not over the reader's clock.
    {"clock_seconds", to_seconds(d.at.time_since_epoch())},
    {"version", version()},
    {"coordinator_status",
     {{"active_jobs", c.active_jobs},
      {"waiting_jobs", c.waiting_jobs},
      {"completed_jobs", c.completed_jobs},
      {"max_concurrent_jobs", c.max_concurrent_jobs},
      {"queued_operations", c.queued_operations},
      {"ledger_violations", c.ledger_violations},
      {"worker_nodes", c.worker_nodes},
      {"lost_nodes", c.lost_nodes},
      {"stale_events", c.stale_events},
      {"actor_restarts", c.actor_restarts}}},
    {"batching_metrics", std::move(batching)},
    {"performance_metrics",
     {{"average_throughput", p.average_throughput},
      {"average_latency_ms", p.average_latency_ms},
      {"success_rate", p.success_rate},
      {"system_cpu_usage", p.system_cpu_usage},
      {"system_memory_usage", p.system_memory_usage}}},
    {"resources",
     {{"cpu_percent", r.cpu_percent},
      {"memory_percent", r.memory_percent},
      {"net_rx_bytes_per_s", r.net_rx_bytes_per_s},
      {"net_tx_bytes_per_s", r.net_tx_bytes_per_s},
      {"disk_read_bytes_per_s", r.disk_read_bytes_per_s},
      {"disk_write_bytes_per_s", r.disk_write_bytes_per_s},
      {"disk_busy_percent", r.disk_busy_percent},
      {"load_average_1m", r.load_average_1m}}},
    {"active_alerts", std::move(alerts)}};
}

boost::json::value to_json(const ab_test_result& r) {
  return boost::json::object{{"test_id", r.test_id},
                             {"name", r.name},
                             {"control_strategy", r.control_strategy},
                             {"test_strategy", r.test_strategy},
                             {"control_samples", r.control_samples},
                             {"test_samples", r.test_samples},
                             {"control_batches", r.control_batches},
                             {"test_batches", r.test_batches},
                             {"control_mean", r.control_mean},
                             {"test_mean", r.test_mean},
                             {"improvement_percent", r.improvement_percent},
                             {"p_value", r.p_value},
                             {"method", "Welch's t-test over batch means"},
                             {"recommendation", to_string(r.recommendation)}};
}

} // namespace batching
