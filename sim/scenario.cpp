#include "sim/scenario.hpp"

#include <algorithm>

#include "config/reader.hpp"
#include "config/yaml_writer.hpp"
#include "sim/strategies.hpp"

namespace batching::sim {

namespace {

/// A schema visitor that only collects the parameters' addresses.
struct parameter_collector {
  std::vector<double*> fields;

  void scalar(std::string_view, double& field, config::bounds, std::string_view,
              std::string_view) {
    fields.push_back(&field);
  }
};

} // namespace

std::vector<double*> parameters_of(backend_params& p) {
  parameter_collector c;
  visit(p, c);
  return c.fields;
}

backend_params unchanged_params() {
  backend_params p;
  for (auto* field : parameters_of(p))
    *field = -1;
  return p;
}

backend_params overlay(backend_params p, backend_params change) {
  auto to = parameters_of(p);
  auto from = parameters_of(change);
  for (std::size_t i = 0; i < to.size(); ++i)
    if (*from[i] >= 0)
      *to[i] = *from[i];
  return p;
}

std::string shipped_scenario_path(const std::string& name) {
  return config::default_directory() + "/../sim/scenarios/" + name + ".yaml";
}

scenario load_scenario(const config::source& src,
                       std::vector<config::diagnostic>& errors) {
  scenario sc;
  auto found = config::read_document(src, sc);
  errors.insert(errors.end(), found.begin(), found.end());
  auto fail = [&](std::string message) {
    errors.push_back({src.name, 0, 0, std::move(message)});
  };
  if (sc.workload.empty())
    fail("workload: at least one stream is needed");
  for (std::size_t i = 0; i < sc.workload.size(); ++i) {
    const auto& w = sc.workload[i];
    auto path = "workload[" + std::to_string(i) + "]";
    if (w.payload_bytes.min_bytes > w.payload_bytes.max_bytes)
      fail(path + ".payload_bytes: min is larger than max");
    if (w.payload_bytes.max_bytes > sc.backend.max_payload_bytes)
      fail(path
           + ".payload_bytes: max is larger than the backend's "
             "max_payload_bytes (no request could carry it)");
  }
  for (std::size_t i = 0; i < sc.backend.outages.size(); ++i)
    if (sc.backend.outages[i].from_s >= sc.backend.outages[i].to_s)
      fail("backend.outages[" + std::to_string(i)
           + "]: from_s must be before to_s");
  for (std::size_t i = 0; i < sc.actor_deaths.size(); ++i) {
    const auto& d = sc.actor_deaths[i];
    auto path = "actor_deaths[" + std::to_string(i) + "]";
    if (d.op_type.empty())
      continue;
    if (d.actor != supervised_role::batcher)
      fail(path + ".op_type: only a batcher has one (a " + to_string(d.actor)
           + " serves the backend)");
    else if (std::none_of(
               sc.workload.begin(), sc.workload.end(),
               [&](const auto& w) { return w.op_type == d.op_type; }))
      fail(path + ".op_type: no workload stream of type '" + d.op_type + "'");
  }
  const auto& p = sc.backend.params;
  if (sc.backend.kind == backend_kind::rate_limited_api) {
    auto b = sc.backend.budget;
    if ((b == budget_kind::token_bucket || b == budget_kind::nginx_delay)
        && p.rate <= 0)
      fail("backend.rate: a " + to_string(b) + " needs a positive rate");
    if ((b == budget_kind::fixed_window || b == budget_kind::sliding_log
         || b == budget_kind::sliding_counter || b == budget_kind::counting_log
         || b == budget_kind::counting_counter)
        && (p.window_seconds <= 0 || p.window_requests < 1))
      fail("backend: a " + to_string(b)
           + " needs window_seconds > 0 and window_requests >= 1");
    if (b == budget_kind::concurrency && p.concurrency < 1)
      fail("backend.concurrency: a concurrency budget needs a limit >= 1");
    if (p.tenant_share > 1)
      fail("backend.tenant_share: at most 1 (the whole budget)");
  }
  for (const auto& name : sc.strategies)
    if (name != "oracle" && !find_strategy(name))
      fail("strategies: unknown strategy '" + name
           + "' (expected one of: " + strategy_choices() + ")");
  return sc;
}

std::string to_yaml(const scenario& sc) {
  auto copy = sc; // the visitors take mutable references
  YAML::Emitter out;
  out << YAML::BeginMap;
  config::yaml_writer writer{out};
  visit(copy, writer);
  out << YAML::EndMap;
  return std::string{out.c_str()} + "\n";
}

} // namespace batching::sim
