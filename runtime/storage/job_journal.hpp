#pragma once

// The runtime's job journal (docs/durability.md): every accepted job, each
// operation's outcome and each job's end, in SQLite (WAL), so that a
// restarted runtime finds its jobs again.
//
// Contract.
//   - A job is written whole (type, priority, deadline, every operation's id
//     and payload) in the transaction that acknowledges it; the caller
//     answers the submitter only after commit() returned.
//   - Outcomes are written as runs of consecutive indices of one job with
//     one terminal state (a batch's outcomes are usually one run), several
//     batches per transaction (group commit). An outcome lost in a crash
//     means the operation is sent again after the restart: at least once to
//     the backend, never skipped.
//   - A job's end (its final state and counts) replaces its operations and
//     runs; finished jobs are kept `retention` long, then forgotten.
//   - Job ids never repeat across restarts: load() answers the next free id
//     (the largest ever written + 1, kept in meta even when jobs are gone).
// Layout: jobs(id, type, ...), ops(key = job_id << 32 | index, id, payload),
// done(key = job_id << 32 | first index, count, state), meta(key, value).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/types.hpp"
#include "runtime/storage/sqlite_file.hpp"

namespace batching {

/// One job as the journal holds it.
struct journaled_job {
  std::uint64_t id = 0;
  std::string op_type;
  priority prio = priority::normal;
  std::int64_t submitted_ms = 0; // Unix time, milliseconds
  std::int64_t deadline_ms = 0;  // Unix time, milliseconds; 0: none
  std::uint64_t total = 0;
  /// An unfinished job: every operation, and each one's state (queued, or
  /// the terminal state recorded for it). Empty for a finished job.
  std::vector<operation> operations;
  std::vector<operation_state> states;
  /// A finished job's end.
  bool finished = false;
  job_state state = job_state::waiting;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  std::string last_error;
  std::int64_t finished_ms = 0;
};

/// One operation's outcome.
struct journaled_outcome {
  std::uint64_t job_id = 0;
  std::uint64_t index = 0;
  operation_state state = operation_state::succeeded;
};

/// What one transaction writes, in this order.
struct journal_writes {
  std::vector<journaled_job> accepted; // unfinished, all queued
  std::vector<journaled_outcome> outcomes;
  std::vector<journaled_job> ended; // finished: id and the end's fields

  bool empty() const {
    return accepted.empty() && outcomes.empty() && ended.empty();
  }
};

/// What a restart finds.
struct journal_contents {
  std::vector<journaled_job> jobs; // ascending ids
  std::uint64_t next_job_id = 1;
  std::uint64_t unfinished_operations = 0; // queued, over every job
};

class job_journal {
public:
  /// Opens (creating) the journal; throws journal_error naming the path
  /// and the reason (not a database, a `batching run` journal, read-only,
  /// locked by another process, ...).
  job_journal(const std::string& path, journal_sync sync);

  /// Everything the journal holds.
  journal_contents load();

  /// Writes `w` in one transaction; throws journal_error when it fails
  /// (nothing of `w` is then written).
  void commit(const journal_writes& w);

  /// Forgets finished jobs that ended before `cutoff_ms` (Unix time).
  /// Answers how many.
  std::uint64_t forget_finished_before(std::int64_t cutoff_ms);

  const std::string& path() const { return db_.path(); }

private:
  sqlite_file db_;
};

} // namespace batching
