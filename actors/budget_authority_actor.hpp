#pragma once

// The cluster's budget authority (docs/deployment.md): one
// budget_authority policy per backend, leasing permits to the gates of
// every node and broadcasting a 429 seen anywhere as a pause to all of
// them. It runs on the authority node and is published there.

#include <map>
#include <string>

#include "messages/interfaces.hpp"
#include "runtime/policy/cluster_budget.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

/// One config per backend it governs; a lease for any other backend is
/// answered with no permits and a retry after 1 s.
budget_authority_actor
spawn_budget_authority(caf::actor_system& sys,
                       std::map<std::string, budget_authority::config> cfg);

/// The authority's settings for every backend of a runtime configuration
/// with a known budget: its rate is the backend's
/// initial_requests_per_second. Backends without one (0, unpaced) are left
/// out: each node paces those alone (spawn_topology gives their gates no
/// authority).
std::map<std::string, budget_authority::config>
authority_config(const runtime_config& cfg);

} // namespace batching
