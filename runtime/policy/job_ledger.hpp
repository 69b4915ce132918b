#pragma once

// Job ledger and admission: the coordinator's record of every job and of
// every operation's state.
//
// Algorithm.
//   admit(type, prio, n, ...): rejected whole (nothing recorded) when n = 0,
//     when the type is unknown, or when queued + n > max_queued_operations
//     (counting every unfinished operation of every job); otherwise the job
//     is recorded as waiting with all n operations queued.
//   start(): while running jobs < max_concurrent_jobs (the effective limit,
//     which the shell halves during a critical resource alert), the waiting
//     job with the highest priority (FIFO among equals) starts.
//   Operation transitions, each checked: queued -> in_flight (sent),
//     in_flight -> queued (requeued), queued | in_flight -> succeeded |
//     failed | cancelled (finished). A transition from the wrong state is
//     refused and counted in violations() (tests assert it stays 0).
//   A job finishes when its last operation does: completed when all
//     succeeded, cancelled when it was cancelled, else failed.
//   Events for a job that has not started (or is unknown) are refused
//     and counted in violations() too.
//   Journal (docs/durability.md): admit(..., held = true) records a job
//     that may not start until release() (it is being made durable);
//     withdraw() forgets a held job as if never admitted (it could not be
//     made durable). restore() records a job found in the journal after a
//     restart under its old id, with the outcomes already recorded;
//     reserve_ids_below() keeps new ids above every id ever given.
//   cancel(job): a waiting job's operations are all cancelled at once; a
//     running job is marked cancelling (its batcher cancels what is queued,
//     what is in flight finishes by its outcome).
// Invariants: for every job, queued + in_flight + succeeded + failed +
// cancelled = total; an operation reaches a terminal state at most once.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

class job_ledger {
public:
  enum class refusal : std::uint8_t {
    none,
    empty_job,
    unknown_operation_type,
    queue_full,
  };

  struct admission {
    std::uint64_t job_id = 0; // 0 when refused
    refusal reason = refusal::none;
    std::string message;
  };

  struct config {
    std::uint32_t max_concurrent_jobs = 10;
    std::uint64_t max_queued_operations = 1'000'000;
  };

  job_ledger(config cfg, std::set<std::string> known_types);

  admission admit(const std::string& op_type, priority prio,
                  std::uint64_t operations, time_point now, bool held = false);

  /// A held job may start now. False when it is not held.
  bool release(std::uint64_t job_id);
  /// Forgets a held job (its operations leave the queue). False when it
  /// is not held.
  bool withdraw(std::uint64_t job_id);

  /// A job from the journal: `states` holds each operation's recorded
  /// state (queued, or terminal). An unfinished one waits to start; one
  /// whose operations are all terminal is recorded finished in `end` (with
  /// `last_error`; `end` is completed, failed or cancelled). False when
  /// the id is taken or the job empty.
  bool restore(std::uint64_t job_id, const std::string& op_type, priority prio,
               const std::vector<operation_state>& states, time_point now,
               std::optional<job_state> end = std::nullopt,
               const std::string& last_error = {});
  /// New ids start at `next` or above.
  void reserve_ids_below(std::uint64_t next);

  /// Starts waiting jobs while there is room; returns the started ids in
  /// start order.
  std::vector<std::uint64_t> start(time_point now);

  /// The concurrency limit in force (halved during a critical alert).
  void set_concurrency_limit(std::uint32_t limit);
  std::uint32_t concurrency_limit() const { return limit_; }

  /// Applies a batcher's events; returns the jobs that finished.
  std::vector<std::uint64_t> apply(const operation_events& events,
                                   time_point now);

  /// Operations whose node was lost: those in flight go back to queued
  /// (the lost node may or may not have sent them); queued and finished
  /// ones are left as they are.
  void requeue_lost(const std::vector<op_ref>& ops);

  /// Cancels a job. Returns false when unknown or already finished.
  /// `was_running` tells the caller whether a batcher must cancel the
  /// job's queued operations (a waiting job is cancelled here at once).
  bool cancel(std::uint64_t job_id, time_point now, bool& was_running);

  std::optional<job_status> status(std::uint64_t job_id, time_point now) const;

  bool known(std::uint64_t job_id) const { return jobs_.count(job_id) > 0; }

  /// Ids of the jobs not finished yet (waiting or running), ascending.
  std::vector<std::uint64_t> unfinished_jobs() const;

  std::uint64_t violations() const { return violations_; }
  std::uint64_t unfinished_operations() const { return unfinished_; }
  std::size_t running_jobs() const { return running_; }
  std::size_t waiting_jobs() const { return waiting_.size(); }
  std::uint64_t finished_jobs() const { return finished_jobs_; }

  /// Forgets finished jobs older than `keep` (bounded memory in long runs).
  void forget_finished_before(time_point cutoff);

private:
  struct job {
    job_status status;
    std::vector<operation_state> states;
    bool cancelling = false;
    bool started = false; // (time points may be 0 in virtual time)
    bool finished = false;
    bool held = false;
  };

  bool move(job& j, std::uint64_t index, operation_state from_mask_a,
            operation_state from_mask_b, operation_state to);
  void count(job_status& s, operation_state st, int delta);
  bool maybe_finish(job& j, time_point now);

  config cfg_;
  std::set<std::string> known_types_;
  std::uint32_t limit_;
  std::unordered_map<std::uint64_t, job> jobs_;
  // Finished jobs in the order they finished (for forgetting them).
  std::deque<std::pair<time_point, std::uint64_t>> finished_order_;
  // Waiting jobs by (priority, admission order).
  std::map<std::pair<std::uint8_t, std::uint64_t>, std::uint64_t> waiting_;
  std::size_t running_ = 0;
  std::uint64_t next_job_id_ = 1;
  std::uint64_t unfinished_ = 0;
  std::uint64_t finished_jobs_ = 0;
  std::uint64_t violations_ = 0;
};

} // namespace batching
