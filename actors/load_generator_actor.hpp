#pragma once

// A load generator: one user of one workload stream. It plays the stream's
// arrival process (runtime/policy/workload.hpp) into the coordinator
// through the coordinator's public protocol (submit), timing each job on
// the actor clock, so the same actor drives the simulator in virtual time
// and load tests in real time.

#include <cstdint>

#include "messages/interfaces.hpp"
#include "runtime/policy/workload.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct load_generator_config {
  coordinator_actor coordinator;
  workload_plan plan;
  std::uint32_t user = 0; // which of plan.users this one is
  std::uint64_t seed = 1;
  std::uint64_t id_base = 0; // first operation id (unique per generator)
};

load_generator_actor spawn_load_generator(caf::actor_system& sys,
                                          load_generator_config cfg);

} // namespace batching
