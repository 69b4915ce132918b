#pragma once

// Virtual time for the simulator and the deterministic tests: CAF's
// test_coordinator scheduler (no threads; a clock that moves only when told)
// and the one way to move it.

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "messages/registration.hpp"
#include "runtime/policy/types.hpp"

namespace batching::sim {

/// An actor system configuration for the deterministic scheduler.
struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    register_types(*this);
  }
};

/// Runs every message, then fires timers in due order for `d` of virtual
/// time (each timer moves the clock to its due time first).
inline void advance_clock(caf::scheduler::test_coordinator& sched, duration d) {
  auto& clock = sched.clock();
  sched.run();
  auto until = clock.now() + d;
  while (!clock.schedule().empty()
         && clock.schedule().begin()->first <= until) {
    clock.trigger_timeout();
    sched.run();
  }
  if (clock.current_time < until)
    clock.current_time = until;
  sched.run();
}

} // namespace batching::sim
