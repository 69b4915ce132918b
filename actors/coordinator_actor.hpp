#pragma once

// The coordinator: admits jobs whole or rejects them whole (job_ledger),
// starts them by priority within max_concurrent_jobs, hands their operations
// to the batcher of their type, applies the batchers' operation events to
// the ledger, answers status, wait, cancel, drain and the dashboard, and
// halves max_concurrent_jobs while any critical resource alert lasts.
//
// With a journal: an admitted job is held (it may not start) until the
// journal holds it, then released and acknowledged; one the journal could
// not write is withdrawn and refused (journal_unavailable). Jobs restored
// from the journal start like others, sending only their operations that
// have no recorded outcome. Stopping (stop_atom) no longer writes to the
// journal: what it cancels then runs again after a restart.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

/// A job found in the journal at start (docs/durability.md).
struct restored_job {
  std::uint64_t job_id = 0;
  std::string op_type;
  priority prio = priority::normal;
  /// Time left until its deadline; none when it has no deadline (a passed
  /// one leaves a moment, so its operations fail as expired).
  std::optional<duration> deadline_left;
  std::vector<operation> operations;
  /// Each operation's recorded state: queued, or its terminal state.
  std::vector<operation_state> states;
  /// A job that had ended: its end.
  std::optional<job_state> end;
  std::string last_error;
};

/// The batchers register afterwards (put_atom), since they report to the
/// coordinator and so are spawned after it.
struct coordinator_wiring {
  /// The backend of each operation type (the known types).
  std::map<std::string, std::string> backend_of;
  /// The gate of each backend.
  std::map<std::string, circuit_breaker_actor> gates;
  /// The journal (invalid: none). With one, a job is acknowledged only once
  /// the journal holds it, and outcomes and ends are sent to it.
  journal_actor journal;
  /// What the journal held at start, and the first free job id.
  std::vector<restored_job> restored;
  std::uint64_t next_job_id = 1;
};

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    coordinator_config cfg,
                                    coordinator_wiring wiring);

} // namespace batching
