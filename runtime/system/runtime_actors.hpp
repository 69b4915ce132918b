#pragma once

// For CAF users: the actor system and the actors behind a runtime (valid
// between start() and stop()).

#include "runtime/system/runtime.hpp"
#include "runtime/system/topology.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

caf::actor_system& system_of(runtime& rt);

const topology& actors_of(runtime& rt);

} // namespace batching
