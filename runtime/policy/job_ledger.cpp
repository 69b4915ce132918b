#include "runtime/policy/job_ledger.hpp"

#include <algorithm>

namespace batching {

job_ledger::job_ledger(config cfg, std::set<std::string> known_types)
  : cfg_(cfg), known_types_(std::move(known_types)),
    limit_(std::max<std::uint32_t>(1, cfg.max_concurrent_jobs)) {
  // nop
}

job_ledger::admission job_ledger::admit(const std::string& op_type,
                                        priority prio, std::uint64_t operations,
                                        time_point now, bool held) {
  if (operations == 0)
    return {0, refusal::empty_job, "a job needs at least one operation"};
  if (!known_types_.count(op_type)) {
    std::string known;
    for (const auto& t : known_types_)
      known += (known.empty() ? "" : ", ") + t;
    return {0, refusal::unknown_operation_type,
            "unknown operation type '" + op_type + "' (configured: " + known
              + ")"};
  }
  if (unfinished_ + operations > cfg_.max_queued_operations)
    return {0, refusal::queue_full,
            std::to_string(unfinished_) + " unfinished + "
              + std::to_string(operations) + " new operations exceed "
              + "max_queued_operations ("
              + std::to_string(cfg_.max_queued_operations) + ")"};
  auto id = next_job_id_++;
  job j;
  j.status.job_id = id;
  j.status.op_type = op_type;
  j.status.prio = prio;
  j.status.state = job_state::waiting;
  j.status.total = operations;
  j.status.queued = operations;
  j.status.submitted_at = now;
  j.states.assign(operations, operation_state::queued);
  j.held = held;
  jobs_.emplace(id, std::move(j));
  if (!held)
    waiting_.emplace(std::pair{static_cast<std::uint8_t>(prio), id}, id);
  unfinished_ += operations;
  return {id, refusal::none, {}};
}

bool job_ledger::release(std::uint64_t job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || !it->second.held)
    return false;
  it->second.held = false;
  waiting_.emplace(
    std::pair{static_cast<std::uint8_t>(it->second.status.prio), job_id},
    job_id);
  return true;
}

bool job_ledger::withdraw(std::uint64_t job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || !it->second.held)
    return false;
  unfinished_ -= it->second.status.queued;
  jobs_.erase(it);
  return true;
}

bool job_ledger::restore(std::uint64_t job_id, const std::string& op_type,
                         priority prio,
                         const std::vector<operation_state>& states,
                         time_point now, std::optional<job_state> end,
                         const std::string& last_error) {
  if (job_id == 0 || jobs_.count(job_id) || states.empty())
    return false;
  job j;
  j.status.job_id = job_id;
  j.status.op_type = op_type;
  j.status.prio = prio;
  j.status.state = job_state::waiting;
  j.status.total = states.size();
  j.status.submitted_at = now;
  j.status.last_error = last_error;
  j.states = states;
  for (auto& st : j.states) {
    if (!is_terminal(st))
      st = operation_state::queued; // in flight at the crash: sent again
    count(j.status, st, +1);
  }
  reserve_ids_below(job_id + 1);
  auto queued = j.status.queued;
  auto& placed = jobs_.emplace(job_id, std::move(j)).first->second;
  if (queued == 0) {
    // Ended before the restart: its recorded end, not one derived anew.
    maybe_finish(placed, now);
    if (end)
      placed.status.state = *end;
    return true;
  }
  waiting_.emplace(std::pair{static_cast<std::uint8_t>(prio), job_id}, job_id);
  unfinished_ += queued;
  return true;
}

void job_ledger::reserve_ids_below(std::uint64_t next) {
  next_job_id_ = std::max(next_job_id_, next);
}

void job_ledger::set_concurrency_limit(std::uint32_t limit) {
  limit_ = std::max<std::uint32_t>(1, limit);
}

std::vector<std::uint64_t> job_ledger::start(time_point now) {
  std::vector<std::uint64_t> started;
  while (running_ < limit_ && !waiting_.empty()) {
    auto id = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    auto& j = jobs_.at(id);
    j.status.state = job_state::running;
    j.status.started_at = now;
    j.started = true;
    ++running_;
    started.push_back(id);
  }
  return started;
}

void job_ledger::count(job_status& s, operation_state st, int delta) {
  auto apply = [delta](std::uint64_t& n) {
    n = static_cast<std::uint64_t>(static_cast<std::int64_t>(n) + delta);
  };
  switch (st) {
    case operation_state::queued: apply(s.queued); break;
    case operation_state::in_flight: apply(s.in_flight); break;
    case operation_state::succeeded: apply(s.succeeded); break;
    case operation_state::failed: apply(s.failed); break;
    default: apply(s.cancelled);
  }
}

bool job_ledger::move(job& j, std::uint64_t index, operation_state from_a,
                      operation_state from_b, operation_state to) {
  if (index >= j.states.size()) {
    ++violations_;
    return false;
  }
  auto& st = j.states[index];
  if (st != from_a && st != from_b) {
    ++violations_;
    return false;
  }
  count(j.status, st, -1);
  count(j.status, to, +1);
  st = to;
  return true;
}

bool job_ledger::maybe_finish(job& j, time_point now) {
  auto& s = j.status;
  if (s.succeeded + s.failed + s.cancelled != s.total || j.finished)
    return false;
  j.finished = true;
  s.finished_at = now;
  finished_order_.emplace_back(now, s.job_id);
  if (j.cancelling || s.cancelled > 0)
    s.state = job_state::cancelled;
  else if (s.failed > 0)
    s.state = job_state::failed;
  else
    s.state = job_state::completed;
  if (j.started)
    --running_;
  ++finished_jobs_;
  return true;
}

std::vector<std::uint64_t> job_ledger::apply(const operation_events& events,
                                             time_point now) {
  std::vector<std::uint64_t> finished;
  // Events come only for started jobs (the coordinator hands a job's
  // operations to its batcher when it starts): one that has not started
  // would finish it while it waits, and starting it later would hold a
  // concurrency slot for ever.
  auto find = [&](std::uint64_t id) -> job* {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !it->second.started) {
      ++violations_;
      return nullptr;
    }
    return &it->second;
  };
  for (const auto& ref : events.sent)
    if (auto* j = find(ref.job_id))
      move(*j, ref.index, operation_state::queued, operation_state::queued,
           operation_state::in_flight);
  for (const auto& ref : events.requeued)
    if (auto* j = find(ref.job_id))
      move(*j, ref.index, operation_state::in_flight,
           operation_state::in_flight, operation_state::queued);
  for (const auto& done : events.finished) {
    auto* j = find(done.job_id);
    if (!j || !is_terminal(done.state)) {
      if (j)
        ++violations_;
      continue;
    }
    if (!move(*j, done.index, operation_state::queued,
              operation_state::in_flight, done.state))
      continue;
    --unfinished_;
    if (!done.error.empty())
      j->status.last_error = done.error;
    if (maybe_finish(*j, now))
      finished.push_back(done.job_id);
  }
  return finished;
}

void job_ledger::requeue_lost(const std::vector<op_ref>& ops) {
  for (const auto& ref : ops) {
    auto it = jobs_.find(ref.job_id);
    if (it == jobs_.end() || ref.index >= it->second.states.size())
      continue;
    if (it->second.states[ref.index] == operation_state::in_flight)
      move(it->second, ref.index, operation_state::in_flight,
           operation_state::in_flight, operation_state::queued);
  }
}

bool job_ledger::cancel(std::uint64_t job_id, time_point now,
                        bool& was_running) {
  was_running = false;
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.finished)
    return false;
  auto& j = it->second;
  if (j.held)
    return false; // not acknowledged yet: nobody can know its id
  j.cancelling = true;
  if (j.status.state == job_state::waiting) {
    waiting_.erase({static_cast<std::uint8_t>(j.status.prio), job_id});
    for (auto& st : j.states) // queued: no events before the start
      if (st == operation_state::queued)
        st = operation_state::cancelled;
    unfinished_ -= j.status.queued;
    j.status.cancelled += j.status.queued;
    j.status.queued = 0;
    maybe_finish(j, now);
    return true;
  }
  was_running = true;
  return true;
}

std::optional<job_status> job_ledger::status(std::uint64_t job_id,
                                             time_point now) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end())
    return std::nullopt;
  auto s = it->second.status;
  if (it->second.started) {
    auto end = it->second.finished ? s.finished_at : now;
    auto secs = to_seconds(end - s.started_at);
    auto done = s.succeeded + s.failed + s.cancelled;
    s.throughput = secs > 0 ? static_cast<double>(done) / secs : 0;
  }
  return s;
}

std::vector<std::uint64_t> job_ledger::unfinished_jobs() const {
  std::vector<std::uint64_t> result;
  for (const auto& [id, j] : jobs_)
    if (!j.finished)
      result.push_back(id);
  std::sort(result.begin(), result.end());
  return result;
}

void job_ledger::forget_finished_before(time_point cutoff) {
  // Jobs finish in time order, so the oldest are at the front.
  while (!finished_order_.empty() && finished_order_.front().first < cutoff) {
    jobs_.erase(finished_order_.front().second);
    finished_order_.pop_front();
  }
}

} // namespace batching
