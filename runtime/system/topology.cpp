#include "runtime/system/topology.hpp"

#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/batcher_actor.hpp"
#include "actors/circuit_breaker_actor.hpp"
#include "actors/coordinator_actor.hpp"
#include "actors/optimizer_actor.hpp"
#include "actors/resource_sampler_actor.hpp"
#include "actors/supervisor_actor.hpp"
#include "runtime/policy/batch_engine.hpp"

namespace batching {

void topology::shutdown() const {
  auto bye = caf::exit_reason::user_shutdown;
  if (supervisor)
    caf::anon_send_exit(supervisor, bye);
  if (sampler)
    caf::anon_send_exit(sampler, bye);
  if (coordinator && !remote_coordinator)
    caf::anon_send_exit(coordinator, bye);
  if (optimizer)
    caf::anon_send_exit(optimizer, bye);
  for (const auto& [_, b] : batchers)
    caf::anon_send_exit(b, bye);
  for (const auto& [_, g] : gates)
    caf::anon_send_exit(g, bye);
}

topology spawn_topology(caf::actor_system& sys, const runtime_config& cfg,
                        const std::map<std::string, executor_source>& executors,
                        std::shared_ptr<resource_probe> probe,
                        std::uint64_t seed, const cluster_membership& cluster,
                        journal_link journal) {
  topology t;
  supervision plan;
  coordinator_wiring wiring;
  for (const auto& [type, op] : cfg.operation_configs) {
    if (!executors.count(op.backend))
      throw std::invalid_argument("no executor for backend '" + op.backend
                                  + "' (used by operation type '" + type
                                  + "')");
    wiring.backend_of[type] = op.backend;
    if (t.gates.count(op.backend))
      continue;
    const auto& be = cfg.backends.at(op.backend);
    gate_config gc;
    gc.backend = op.backend;
    gc.breaker = cfg.batching.circuit_breaker;
    gc.flow = {be.flow_control, be.max_in_flight,
               be.initial_requests_per_second, seed};
    // Only a known budget is shared (authority_config leaves the others
    // out).
    if (be.initial_requests_per_second > 0)
      gc.authority = cluster.authority;
    gc.node = cluster.node;
    gc.memory = std::make_shared<gate_memory>();
    auto g = spawn_circuit_breaker(sys, gc);
    t.gates.emplace(op.backend, g);
    const auto& e = executors.at(op.backend);
    plan.backends[op.backend] = {e.actor, e.respawn, g, std::move(gc)};
  }
  wiring.gates = t.gates;
  wiring.journal = journal.journal;
  wiring.restored = std::move(journal.restored);
  wiring.next_job_id = journal.next_job_id;
  t.remote_coordinator = static_cast<bool>(cluster.coordinator);
  t.coordinator = t.remote_coordinator ? cluster.coordinator
                                       : spawn_coordinator(sys, cfg.coordinator,
                                                           std::move(wiring));
  std::vector<batch_engine::config> engines;
  optimizer_settings os;
  os.optimizer = cfg.optimizer;
  // Under CAF's deterministic scheduler (virtual time) every actor must run
  // in its one queue; elsewhere training gets its own threads.
  bool virtual_time
    = dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler())
      != nullptr;
  os.detached_models = !virtual_time;
  std::uint64_t type_seed = seed;
  for (const auto& [type, op] : cfg.operation_configs) {
    engines.push_back(batch_engine::from_settings(cfg, type, type_seed++));
    const auto& e = engines.back();
    os.bounds[type] = {e.sizing.lo, e.sizing.hi};
    if (e.learn)
      os.learning_types.push_back(type);
  }
  t.optimizer = spawn_optimizer(sys, std::move(os));
  for (auto& engine : engines) {
    auto type = engine.op_type;
    auto backend = engine.backend; // a copy: `engine` moves below
    auto b = spawn_batcher(sys, engine,
                           {t.gates.at(backend), executors.at(backend).actor,
                            t.coordinator, t.optimizer});
    if (!t.remote_coordinator) {
      caf::anon_send(t.coordinator, caf::put_atom::value, type, b);
      plan.types[type] = {b, std::move(engine)};
    }
    caf::anon_send(t.optimizer, caf::put_atom::value, type, b);
    t.batchers.emplace(type, b);
  }
  if (probe) {
    t.sampler = spawn_resource_sampler(
      sys, {cfg.resource_thresholds, cfg.scaling, cfg.sampling},
      std::move(probe));
    if (!t.remote_coordinator)
      caf::anon_send(t.sampler, caf::subscribe_atom::value,
                     resource_listener{t.coordinator});
    for (const auto& [_, b] : t.batchers)
      caf::anon_send(t.sampler, caf::subscribe_atom::value,
                     resource_listener{b});
  }
  if (!t.remote_coordinator)
    plan.coordinator = t.coordinator;
  plan.optimizer = t.optimizer;
  plan.sampler = t.sampler;
  plan.warn = !virtual_time;
  t.supervisor = spawn_supervisor(sys, std::move(plan));
  return t;
}

} // namespace batching
