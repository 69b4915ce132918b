#pragma once

// The strategies a simulation compares, each a runtime configuration: ours
// (a batch-size strategy + our pacer), the seed's static baseline, and the
// peers of docs/anchors.md (their flow controller + static batch sizes, as
// they do not size batches). The oracle's candidates are static
// configurations too (oracle.hpp).
//
// What every strategy is told is what a real client knows: the backend's
// documented request caps (items, bytes) and the SLO. Never the budget or
// the latency model.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/policy/settings.hpp"
#include "sim/scenario.hpp"

namespace batching::sim {

struct strategy_spec {
  std::string name;
  strategy_kind sizing = strategy_kind::adaptive;
  flow_kind flow = flow_kind::pacer;
  // Fixed settings (static and the oracle's candidates); 0 or negative
  // keeps the runtime's default.
  std::uint32_t batch_size = 0;
  std::uint32_t max_in_flight = 0;
  double linger_ms = -1;
  double rate = -1;
};

/// Every named strategy, ours first; `adaptive` is the default.
const std::vector<strategy_spec>& known_strategies();

/// The strategy called `name`, or nothing.
std::optional<strategy_spec> find_strategy(std::string_view name);

/// Names of every known strategy, comma-separated (for messages).
std::string strategy_choices();

/// The runtime configuration one strategy runs the scenario with.
runtime_config runtime_config_for(const scenario& sc, const strategy_spec& s);

} // namespace batching::sim
