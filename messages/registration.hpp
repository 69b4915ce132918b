#pragma once

// One call registers the protocol with an actor system configuration: every
// message type (and std::vector of it), the typed actor handles
// that travel inside messages, and the "batching" error category. Call it
// identically on every node (CAF matches types by these names).

namespace caf {
class actor_system_config;
} // namespace caf

namespace batching {

void register_types(caf::actor_system_config& cfg);

} // namespace batching
