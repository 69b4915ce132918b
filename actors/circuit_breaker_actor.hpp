#pragma once

// The gate of one backend: circuit breaker + flow controller (by default
// our pacer; runtime/policy/flow_control.hpp), shared
// by every batcher whose operation type uses the backend. Batchers ask for
// permits; a permit is granted (FIFO) when the breaker allows a request and
// the flow controller has a slot, and is reported back exactly once with the
// request's result, which feeds both policies; the permits of a holder that
// dies count as abandoned. Transitions are pushed to subscribers.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "messages/interfaces.hpp"
#include "runtime/policy/flow_control.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

/// What a gate has learned, kept outside it so that a restarted gate
/// resumes from it (actors/supervisor_actor.hpp). Written by the one live
/// gate after every answer; read by the supervisor after its death.
struct gate_memory {
  std::atomic<double> rate{0};    // requests/s the flow controller allows
  std::atomic<double> ceiling{0}; // its measured ceiling; 0 = none
  std::atomic<bool> rough{false}; // that ceiling a first, unconfirmed one
  /// The Retry-After it was last told (the actor clock's ns since epoch):
  /// no request before it, from this gate or its successor.
  std::atomic<std::int64_t> blocked_until_ns{0};
};

struct gate_config {
  std::string backend = default_backend;
  circuit_breaker_config breaker;
  flow_settings flow;
  /// In a cluster (docs/deployment.md): every permit also needs a permit
  /// leased from this authority; invalid = the node's own budget only.
  budget_authority_actor authority;
  std::string node; // this node's name towards the authority
  /// The first permit's number: a restarted gate starts past its
  /// predecessor's, so a late report of an old permit matches nothing.
  std::uint64_t first_permit = 1;
  /// Where it keeps what it learned; null: nowhere.
  std::shared_ptr<gate_memory> memory;
};

/// Spawns the gate of one backend.
circuit_breaker_actor spawn_circuit_breaker(caf::actor_system& sys,
                                            gate_config cfg);

} // namespace batching
