#pragma once

// The one place that wires the actor topology (design.md §1): a gate per
// backend in use, a batcher per operation type, the coordinator, and
// optionally the resource sampler broadcasting to coordinator and batchers.
// The embedding API, the simulator and the tests all spawn through here, so
// they run the same topology.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/coordinator_actor.hpp"
#include "actors/resource_probe.hpp"
#include "messages/interfaces.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct topology {
  coordinator_actor coordinator;
  std::map<std::string, batcher_actor> batchers;      // by operation type
  std::map<std::string, circuit_breaker_actor> gates; // by backend
  resource_sampler_actor sampler;                     // may be invalid
  optimizer_actor optimizer;
  /// Restarts executors, gates and batchers that die
  /// (actors/supervisor_actor.hpp); `batchers` and `gates` above are the
  /// first ones, the supervisor knows the current.
  supervisor_actor supervisor;
  /// The coordinator is another node's (a worker node): not ours to stop.
  bool remote_coordinator = false;
  /// Sends an exit to every actor of the topology (the supervisor first, so
  /// nothing is restarted, and with it what it restarted).
  void shutdown() const;
};

/// This node's place in a cluster (docs/deployment.md); an invalid
/// authority means a stand-alone node. A valid coordinator makes this a
/// worker node: no coordinator of its own, its batchers report to that one
/// (the caller registers them with join_atom).
struct cluster_membership {
  budget_authority_actor authority;
  std::string node;
  coordinator_actor coordinator;
};

/// The coordinator's journal (docs/durability.md) and what it held at
/// start; an invalid journal means none.
struct journal_link {
  journal_actor journal;
  std::vector<restored_job> restored;
  std::uint64_t next_job_id = 1;
};

/// A backend's executor and how to spawn it again when it dies.
struct executor_source {
  executor_actor actor;
  /// Empty: the executor is not restarted (a fixed handle).
  std::function<executor_actor()> respawn;

  executor_source(executor_actor a) : actor(std::move(a)) {
    // nop
  }

  /// Spawns the first executor with `spawn`, and every successor.
  executor_source(std::function<executor_actor()> spawn)
    : actor(spawn()), respawn(std::move(spawn)) {
    // nop
  }
};

/// Spawns the topology for `cfg`. `executors` must hold one executor per
/// backend that an operation type uses (else std::invalid_argument); `probe`
/// may be null (no resource sampler). `seed` seeds retry jitter.
topology spawn_topology(caf::actor_system& sys, const runtime_config& cfg,
                        const std::map<std::string, executor_source>& executors,
                        std::shared_ptr<resource_probe> probe,
                        std::uint64_t seed = 1,
                        const cluster_membership& cluster = {},
                        journal_link journal = {});

} // namespace batching
