#pragma once

// The coordinator: admits jobs whole or rejects them whole (job_ledger),
// starts them by priority within max_concurrent_jobs, hands their operations
// to the batcher of their type, applies the batchers' operation events to
// the ledger, answers status, wait, cancel, drain and the dashboard, and
// halves max_concurrent_jobs while any critical resource alert lasts.

#include <map>
#include <string>

#include "messages/interfaces.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

/// The batchers register afterwards (put_atom), since they report to the
/// coordinator and so are spawned after it.
struct coordinator_wiring {
  /// The backend of each operation type (the known types).
  std::map<std::string, std::string> backend_of;
  /// The gate of each backend.
  std::map<std::string, circuit_breaker_actor> gates;
};

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    coordinator_config cfg,
                                    coordinator_wiring wiring);

} // namespace batching
