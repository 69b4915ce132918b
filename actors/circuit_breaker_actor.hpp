#pragma once

// The gate of one backend: circuit breaker + flow controller (by default
// our pacer; runtime/policy/flow_control.hpp), shared
// by every batcher whose operation type uses the backend. Batchers ask for
// permits; a permit is granted (FIFO) when the breaker allows a request and
// the flow controller has a slot, and is reported back exactly once with the
// request's result, which feeds both policies. Transitions are pushed to
// subscribers.

#include <string>

#include "messages/interfaces.hpp"
#include "runtime/policy/flow_control.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct gate_config {
  std::string backend = default_backend;
  circuit_breaker_config breaker;
  flow_settings flow;
  /// In a cluster (docs/deployment.md): every permit also needs a permit
  /// leased from this authority; invalid = the node's own budget only.
  budget_authority_actor authority;
  std::string node; // this node's name towards the authority
};

/// Spawns the gate of one backend.
circuit_breaker_actor spawn_circuit_breaker(caf::actor_system& sys,
                                            gate_config cfg);

} // namespace batching
