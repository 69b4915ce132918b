#pragma once

// The journal actor: the shell around runtime/storage/job_journal. It runs
// detached (a thread of its own: it waits for the disk, the scheduler's
// threads must not).
//
// Group commit: everything that arrives while a commit is pending is
// buffered; the commit is a message to itself sent when the buffer was
// empty, so it runs after every message already queued, and one
// transaction carries them all. Only after that commit does an admitted
// job's request get its answer (the coordinator then acknowledges it).
// A failed commit answers its jobs journal_unavailable (they were not
// written) and keeps the outcomes and ends it held for the next commit,
// retried after retry_delay; they are at most `max_kept` (beyond, an
// outcome is dropped: its operation is only sent again after a restart).
// Finished jobs older than the retention are forgotten at most once a
// minute. On exit, what is buffered is written once more.

#include <memory>

#include "messages/interfaces.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

class job_journal;

struct journal_settings {
  double retention_seconds = 3600;
};

/// The journal's clock: Unix time in milliseconds. Wall time, not the
/// actors' clock: its readings must mean the same after a restart.
std::int64_t journal_clock_ms();

journal_actor spawn_journal(caf::actor_system& sys,
                            std::shared_ptr<job_journal> journal,
                            journal_settings settings);

} // namespace batching
