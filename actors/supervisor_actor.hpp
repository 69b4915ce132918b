#pragma once

// The runtime's supervisor (design.md §1): monitors a topology's executors,
// gates and batchers and spawns each again when it dies for any reason but a
// deliberate stop (normal, user_shutdown), after restart_policy's delay (none
// for a first crash; backing off in a crash loop; never giving up). The new
// actor is handed to whoever talks to it:
//   executor (per backend): that backend's batchers; batches out to the
//     dead one fail retryably and are sent again;
//   gate (per backend): that backend's batchers (a permit pending at the
//     dead gate is asked again; its numbers start past the old gate's, so
//     late reports of old permits match nothing) and the coordinator;
//   batcher (per operation type): the coordinator, which places again every
//     unfinished operation the dead one held (it keeps each running job's
//     operations until the job finishes), the optimizer and the sampler.
// Each restart is one warning on stderr and counts in the dashboard
// (coordinator.actor_restarts). A restarted actor starts afresh (breaker
// closed, sizing learned again), except that a gate's pacer starts from
// its predecessor's last rate and ceiling (gate_memory): a slow start
// into a window the predecessor had partly spent would take the few
// requests left in it as the budget; and no gate sends before the
// Retry-After its predecessor was told.
// Not supervised: a worker node's batchers (the coordinator, on another
// node, moves a lost worker's work to the others) and executors given as a
// fixed handle (no way to spawn them again). An exit sent to the supervisor
// stops it and every actor it currently supervises.

#include <functional>
#include <map>
#include <string>

#include "actors/batcher_actor.hpp"
#include "actors/circuit_breaker_actor.hpp"
#include "messages/interfaces.hpp"
#include "runtime/policy/batch_engine.hpp"
#include "runtime/policy/restart_policy.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct supervision {
  struct backend {
    executor_actor executor;
    /// Spawns the executor again; empty: it is not restarted.
    std::function<executor_actor()> respawn_executor;
    circuit_breaker_actor gate;
    gate_config gate_settings;
  };
  struct type {
    batcher_actor batcher;
    batch_engine::config engine;
  };
  std::map<std::string, backend> backends;
  /// Empty: batchers are not supervised (a worker node).
  std::map<std::string, type> types;
  coordinator_actor coordinator; // this node's; invalid on a worker node
  optimizer_actor optimizer;
  resource_sampler_actor sampler; // may be invalid
  restart_policy::config policy;
  /// Each restart's warning on stderr (off in virtual time: simulated
  /// kills are counted, not reported).
  bool warn = true;
};

supervisor_actor spawn_supervisor(caf::actor_system& sys, supervision plan);

} // namespace batching
