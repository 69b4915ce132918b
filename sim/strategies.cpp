#include "sim/strategies.hpp"

#include <algorithm>

namespace batching::sim {

const std::vector<strategy_spec>& known_strategies() {
  static const std::vector<strategy_spec> all = [] {
    std::vector<strategy_spec> v;
    auto ours = [&](const char* name, strategy_kind k) {
      v.push_back({name, k, flow_kind::pacer});
    };
    ours("adaptive", strategy_kind::adaptive);
    ours("ml", strategy_kind::ml);
    ours("balanced", strategy_kind::balanced);
    ours("conservative", strategy_kind::conservative);
    ours("aggressive", strategy_kind::aggressive);
    // The seed's baseline: its default sizes, no pacing, Retry-After only.
    v.push_back(
      {"static", strategy_kind::fixed, flow_kind::fixed, 0, 0, -1, 0});
    for (auto f : {flow_kind::netflix_aimd, flow_kind::netflix_gradient2,
                   flow_kind::netflix_vegas, flow_kind::envoy_gradient,
                   flow_kind::aws_adaptive, flow_kind::vector_arc,
                   flow_kind::google_sre_throttle})
      v.push_back({to_string(f), strategy_kind::fixed, f});
    // Clipper sizes batches and has no flow control: its sizing behind our
    // pacer, so the comparison with ml is about sizing alone.
    v.push_back({"clipper", strategy_kind::clipper, flow_kind::pacer});
    return v;
  }();
  return all;
}

std::optional<strategy_spec> find_strategy(std::string_view name) {
  for (const auto& s : known_strategies())
    if (s.name == name)
      return s;
  return std::nullopt;
}

std::string strategy_choices() {
  std::string result;
  for (const auto& s : known_strategies())
    result += (result.empty() ? "" : ", ") + s.name;
  return result;
}

runtime_config runtime_config_for(const scenario& sc, const strategy_spec& s) {
  runtime_config cfg;
  // The simulator admits every job at once: the workload, not job
  // admission, shapes the queues.
  cfg.coordinator.max_concurrent_jobs = 1'000'000;
  cfg.coordinator.max_queued_operations = 100'000'000;
  // The operator configures the SLO: strategies steer mean item latency to
  // half the p99 objective (headroom for the tail).
  cfg.batching.target_response_time_ms = sc.slo.p99_latency_ms / 2;
  auto& be = cfg.backends.at(default_backend);
  be.max_items_per_request = sc.backend.max_items_per_request;
  be.max_request_bytes
    = static_cast<std::uint64_t>(sc.backend.max_payload_bytes);
  be.flow_control = s.flow;
  if (s.max_in_flight > 0)
    be.max_in_flight = s.max_in_flight;
  if (sc.client.initial_requests_per_second >= 0)
    be.initial_requests_per_second = sc.client.initial_requests_per_second;
  if (s.rate >= 0)
    be.initial_requests_per_second = s.rate;
  // Retries are the runtime's business, not the strategy's: enough
  // attempts that an outage does not fail operations.
  be.max_attempts = 20;
  // Models train for `ml` only: for the other strategies a model that
  // learns changes nothing but the run's cost.
  cfg.optimizer.train_every_type = false;
  if (s.linger_ms >= 0)
    cfg.batching.linger_ms = s.linger_ms;
  for (const auto& w : sc.workload)
    cfg.operation_configs.try_emplace(w.op_type);
  // The operator lets batches grow to the documented item cap.
  auto cap = sc.backend.max_items_per_request;
  cfg.batching.max_batch_size = std::max(cfg.batching.max_batch_size, cap);
  for (auto& [_, op] : cfg.operation_configs) {
    op.max_batch_size = std::max(op.max_batch_size, cap);
    op.strategy = s.sizing;
    if (s.batch_size > 0)
      op.preferred_batch_size = s.batch_size;
  }
  return cfg;
}

} // namespace batching::sim
