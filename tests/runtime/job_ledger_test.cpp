#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/job_ledger.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

job_ledger ledger(std::uint32_t jobs = 2, std::uint64_t ops = 100) {
  return job_ledger{{jobs, ops}, {"read", "write"}};
}

operation_finished done(std::uint64_t job, std::uint64_t index,
                        operation_state st = operation_state::succeeded) {
  return {index, job, index, st, 1, 1ms, {}};
}

/// Asserts that a job's counts are its operations' states (the test's
/// model); returns how many are unfinished.
std::uint64_t check_counts(const job_status& s,
                           const std::vector<operation_state>& truth) {
  auto n = [&](operation_state st) {
    return static_cast<std::uint64_t>(
      std::count(truth.begin(), truth.end(), st));
  };
  RC_ASSERT(s.queued + s.in_flight + s.succeeded + s.failed + s.cancelled
            == s.total);
  RC_ASSERT(s.queued == n(operation_state::queued));
  RC_ASSERT(s.in_flight == n(operation_state::in_flight));
  RC_ASSERT(s.succeeded == n(operation_state::succeeded));
  RC_ASSERT(s.failed == n(operation_state::failed));
  RC_ASSERT(s.cancelled == n(operation_state::cancelled));
  return n(operation_state::queued) + n(operation_state::in_flight);
}

} // namespace

TEST(job_ledger, rejects_bad_jobs_whole) {
  auto l = ledger(2, 10);
  auto empty = l.admit("read", priority::normal, 0, at(0s));
  EXPECT_EQ(empty.reason, job_ledger::refusal::empty_job);
  auto unknown = l.admit("delete", priority::normal, 1, at(0s));
  EXPECT_EQ(unknown.reason, job_ledger::refusal::unknown_operation_type);
  EXPECT_EQ(unknown.message,
            "unknown operation type 'delete' (configured: read, write)");
  EXPECT_NE(l.admit("read", priority::normal, 8, at(0s)).job_id, 0u);
  auto full = l.admit("write", priority::normal, 3, at(0s));
  EXPECT_EQ(full.reason, job_ledger::refusal::queue_full);
  EXPECT_EQ(full.message, "8 unfinished + 3 new operations exceed "
                          "max_queued_operations (10)");
  EXPECT_EQ(l.unfinished_operations(), 8u); // nothing half-accepted
}

TEST(job_ledger, starts_jobs_by_priority_within_the_limit) {
  auto l = ledger(2);
  auto a = l.admit("read", priority::low, 1, at(0s)).job_id;
  auto b = l.admit("read", priority::normal, 1, at(0s)).job_id;
  auto c = l.admit("read", priority::critical, 1, at(0s)).job_id;
  auto d = l.admit("read", priority::critical, 1, at(0s)).job_id;
  EXPECT_EQ(l.start(at(1s)), (std::vector<std::uint64_t>{c, d}));
  EXPECT_TRUE(l.start(at(1s)).empty());
  EXPECT_EQ(l.apply({{}, {}, {done(c, 0)}}, at(2s)),
            std::vector<std::uint64_t>{c});
  EXPECT_EQ(l.start(at(2s)), std::vector<std::uint64_t>{b});
  EXPECT_EQ(l.status(a, at(2s))->state, job_state::waiting);
}

TEST(job_ledger, tracks_each_operation_through_its_states) {
  auto l = ledger();
  auto id = l.admit("write", priority::high, 3, at(0s)).job_id;
  l.start(at(0s));
  l.apply({{{id, 0}, {id, 1}}, {}, {}}, at(1s));
  auto s = *l.status(id, at(1s));
  EXPECT_EQ(s.queued, 1u);
  EXPECT_EQ(s.in_flight, 2u);
  l.apply({{}, {{id, 1}}, {done(id, 0)}}, at(2s));
  s = *l.status(id, at(2s));
  EXPECT_EQ(s.queued, 2u);
  EXPECT_EQ(s.succeeded, 1u);
  l.apply({{},
           {},
           {done(id, 1, operation_state::failed),
            done(id, 2, operation_state::cancelled)}},
          at(4s));
  s = *l.status(id, at(4s));
  EXPECT_EQ(s.state, job_state::cancelled);
  EXPECT_EQ(s.finished_at, at(4s));
  EXPECT_DOUBLE_EQ(s.throughput, 0.75);
  EXPECT_EQ(l.violations(), 0u);
  // Finishing twice is refused and counted.
  l.apply({{}, {}, {done(id, 0)}}, at(5s));
  EXPECT_EQ(l.violations(), 1u);
  EXPECT_EQ(l.status(id, at(5s))->succeeded, 1u);
}

TEST(job_ledger, a_lost_nodes_operations_are_queued_again) {
  auto l = ledger();
  auto id = l.admit("write", priority::normal, 3, at(0s)).job_id;
  l.start(at(0s));
  l.apply({{{id, 0}, {id, 1}}, {}, {done(id, 1)}}, at(1s));
  // 0 in flight, 1 succeeded, 2 queued: only 0 changes.
  l.requeue_lost({{id, 0}, {id, 1}, {id, 2}, {99, 0}});
  auto s = *l.status(id, at(1s));
  EXPECT_EQ(s.queued, 2u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.succeeded, 1u);
  EXPECT_EQ(l.violations(), 0u);
  // The survivor sends and finishes them.
  l.apply({{{id, 0}, {id, 2}}, {}, {done(id, 0), done(id, 2)}}, at(2s));
  EXPECT_EQ(l.status(id, at(2s))->state, job_state::completed);
  EXPECT_EQ(l.violations(), 0u);
}

TEST(job_ledger, cancelling_a_waiting_job_finishes_it) {
  auto l = ledger(1);
  auto a = l.admit("read", priority::normal, 2, at(0s)).job_id;
  auto b = l.admit("read", priority::normal, 5, at(0s)).job_id;
  l.start(at(0s));
  bool running = true;
  EXPECT_TRUE(l.cancel(b, at(1s), running));
  EXPECT_FALSE(running);
  EXPECT_EQ(l.status(b, at(1s))->state, job_state::cancelled);
  EXPECT_EQ(l.status(b, at(1s))->cancelled, 5u);
  EXPECT_EQ(l.unfinished_operations(), 2u);
  EXPECT_TRUE(l.cancel(a, at(1s), running));
  EXPECT_TRUE(running); // its batcher cancels what is queued
  EXPECT_FALSE(l.cancel(999, at(1s), running));
}

RC_GTEST_PROP(job_ledger_property, counts_always_add_up, ()) {
  auto l = ledger(*rc::gen::inRange<std::uint32_t>(1, 4), 1000);
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<operation_state>> truth; // the test's own model
  std::vector<std::size_t> running; // events come for started jobs only
  auto now = at(0s);
  auto start = [&] {
    for (auto id : l.start(now))
      running.push_back(static_cast<std::size_t>(
        std::find(ids.begin(), ids.end(), id) - ids.begin()));
  };
  auto steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    now += 1s;
    auto action = *rc::gen::inRange(0, 4);
    if (action == 0 || running.empty()) {
      auto n = *rc::gen::inRange<std::uint64_t>(1, 10);
      auto id = l.admit("read", static_cast<priority>(*rc::gen::inRange(0, 4)),
                        n, now)
                  .job_id;
      RC_ASSERT(id != 0u);
      ids.push_back(id);
      truth.emplace_back(n, operation_state::queued);
      start();
      continue;
    }
    auto k = *rc::gen::elementOf(running);
    auto& ops = truth[k];
    auto idx = *rc::gen::inRange<std::uint64_t>(0, ops.size());
    auto& st = ops[idx];
    operation_events ev;
    if (st == operation_state::queued && action == 1) {
      ev.sent.push_back({ids[k], idx});
      st = operation_state::in_flight;
    } else if (st == operation_state::in_flight && action == 2) {
      ev.requeued.push_back({ids[k], idx});
      st = operation_state::queued;
    } else if (!is_terminal(st)) {
      auto to = static_cast<operation_state>(*rc::gen::inRange(2, 5));
      ev.finished.push_back(done(ids[k], idx, to));
      st = to;
    }
    l.apply(ev, now);
    start();
  }
  RC_ASSERT(l.violations() == 0u);
  for (std::size_t k = 0; k < ids.size(); ++k)
    check_counts(*l.status(ids[k], now), truth[k]);
}

// Random events, legal and not: unknown jobs, indices past a job's end,
// transitions from the wrong state (sent twice, requeued while queued,
// finished twice), a finish into a state that is not terminal, cancels of
// waiting and running jobs, lost nodes' requeues, events for a job that
// has not started yet. Each illegal event is
// refused and counted once and changes nothing; the counts always match
// the test's own model; a job finishes exactly when its last operation
// does, in the state its operations say.
RC_GTEST_PROP(job_ledger_property, illegal_events_change_nothing, ()) {
  auto l = ledger(*rc::gen::inRange<std::uint32_t>(1, 4), 1000);
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<operation_state>> truth;
  std::vector<bool> cancelling;
  std::uint64_t violations = 0;
  auto now = at(0s);
  auto pick_ref = [&]() -> op_ref {
    // Mostly real operations; now and then an unknown job or an index
    // past the end.
    auto kind = *rc::gen::inRange(0, 10);
    if (kind == 0 || ids.empty())
      return {*rc::gen::inRange<std::uint64_t>(1000, 2000), 0};
    auto k = *rc::gen::inRange<std::size_t>(0, ids.size());
    if (kind == 1)
      return {ids[k], truth[k].size() + *rc::gen::inRange<std::uint64_t>(0, 3)};
    return {ids[k], *rc::gen::inRange<std::uint64_t>(0, truth[k].size())};
  };
  std::vector<bool> started;
  // The model of a job events may change (known and started).
  auto model = [&](const op_ref& r) -> std::vector<operation_state>* {
    for (std::size_t k = 0; k < ids.size(); ++k)
      if (ids[k] == r.job_id)
        return started[k] ? &truth[k] : nullptr;
    return nullptr;
  };
  auto steps = *rc::gen::inRange(1, 300);
  for (int i = 0; i < steps; ++i) {
    now += 1s;
    auto action = *rc::gen::inRange(0, 10);
    if (action == 0 || ids.empty()) {
      auto n = *rc::gen::inRange<std::uint64_t>(1, 8);
      auto id = l.admit("write", priority::normal, n, now).job_id;
      RC_ASSERT(id != 0u);
      ids.push_back(id);
      truth.emplace_back(n, operation_state::queued);
      cancelling.push_back(false);
      started.push_back(false);
    } else if (action == 1) { // cancel
      auto k = *rc::gen::inRange<std::size_t>(0, ids.size());
      auto before = *l.status(ids[k], now);
      bool finished = std::all_of(truth[k].begin(), truth[k].end(),
                                  [](auto st) { return is_terminal(st); });
      bool running = false;
      RC_ASSERT(l.cancel(ids[k], now, running) == !finished);
      if (!finished) {
        cancelling[k] = true;
        RC_ASSERT(running == (before.state == job_state::running));
        if (!running) // a waiting job is cancelled whole at once
          std::fill(truth[k].begin(), truth[k].end(),
                    operation_state::cancelled);
      }
    } else if (action == 2) { // a lost node's operations
      std::vector<op_ref> lost;
      for (int n = *rc::gen::inRange(1, 4); n > 0; --n)
        lost.push_back(pick_ref());
      l.requeue_lost(lost);
      for (const auto& r : lost)
        if (auto* m = model(r); m && r.index < m->size()
                                && (*m)[r.index] == operation_state::in_flight)
          (*m)[r.index] = operation_state::queued;
    } else { // one event of each kind at most, in the ledger's order
      operation_events ev;
      auto expect
        = [&](const op_ref& r, std::initializer_list<operation_state> from,
              operation_state to) {
            auto* m = model(r);
            if (!m || r.index >= m->size()
                || std::find(from.begin(), from.end(), (*m)[r.index])
                     == from.end()) {
              ++violations;
              return;
            }
            (*m)[r.index] = to;
          };
      if (*rc::gen::arbitrary<bool>()) {
        auto r = pick_ref();
        ev.sent.push_back(r);
        expect(r, {operation_state::queued}, operation_state::in_flight);
      }
      if (*rc::gen::arbitrary<bool>()) {
        auto r = pick_ref();
        ev.requeued.push_back(r);
        expect(r, {operation_state::in_flight}, operation_state::queued);
      }
      if (*rc::gen::arbitrary<bool>()) {
        auto r = pick_ref();
        auto to = static_cast<operation_state>(*rc::gen::inRange(0, 5));
        ev.finished.push_back(done(r.job_id, r.index, to));
        if (!is_terminal(to))
          ++violations; // refused once, whatever the job
        else
          expect(r, {operation_state::queued, operation_state::in_flight}, to);
      }
      l.apply(ev, now);
    }
    for (auto id : l.start(now))
      started[static_cast<std::size_t>(std::find(ids.begin(), ids.end(), id)
                                       - ids.begin())]
        = true;
    RC_ASSERT(l.violations() == violations);
    std::uint64_t unfinished = 0;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      auto s = *l.status(ids[k], now);
      unfinished += check_counts(s, truth[k]);
      bool all_done = s.succeeded + s.failed + s.cancelled == s.total;
      if (!all_done) {
        RC_ASSERT(s.state != job_state::completed);
        RC_ASSERT(s.state != job_state::failed);
      } else if (cancelling[k] || s.cancelled > 0) {
        RC_ASSERT(s.state == job_state::cancelled);
      } else if (s.failed > 0) {
        RC_ASSERT(s.state == job_state::failed);
      } else {
        RC_ASSERT(s.state == job_state::completed);
      }
    }
    RC_ASSERT(l.unfinished_operations() == unfinished);
  }
}

TEST(job_ledger, refuses_events_for_a_job_that_has_not_started) {
  // Finished while it waited, the old ledger later started it anyway: a
  // concurrency slot held for ever, and no other job could start.
  auto l = ledger(1);
  auto a = l.admit("read", priority::normal, 1, at(0s)).job_id;
  auto b = l.admit("read", priority::normal, 1, at(0s)).job_id;
  EXPECT_EQ(l.start(at(0s)), std::vector<std::uint64_t>{a});
  l.apply({{}, {}, {done(b, 0)}}, at(1s)); // b waits: refused
  EXPECT_EQ(l.violations(), 1u);
  EXPECT_EQ(l.status(b, at(1s))->state, job_state::waiting);
  EXPECT_EQ(l.status(b, at(1s))->succeeded, 0u);
  l.apply({{}, {}, {done(a, 0)}}, at(2s));
  EXPECT_EQ(l.start(at(2s)), std::vector<std::uint64_t>{b});
  l.apply({{}, {}, {done(b, 0)}}, at(3s));
  EXPECT_EQ(l.status(b, at(3s))->state, job_state::completed);
  EXPECT_EQ(l.running_jobs(), 0u);
}

TEST(job_ledger, forgets_only_jobs_finished_before_the_cutoff) {
  auto l = ledger(4);
  auto a = l.admit("read", priority::normal, 1, at(0s)).job_id;
  auto b = l.admit("read", priority::normal, 1, at(0s)).job_id;
  auto c = l.admit("read", priority::normal, 1, at(0s)).job_id;
  l.start(at(0s));
  l.apply({{}, {}, {done(a, 0)}}, at(10s));
  l.apply({{}, {}, {done(b, 0)}}, at(20s));
  l.forget_finished_before(at(15s));
  EXPECT_FALSE(l.known(a));
  EXPECT_TRUE(l.known(b));
  EXPECT_TRUE(l.known(c)); // unfinished jobs are never forgotten
  EXPECT_EQ(l.unfinished_jobs(), std::vector<std::uint64_t>{c});
}

TEST(job_ledger, a_held_job_waits_for_release_and_counts_against_the_queue) {
  auto l = ledger(2, 10);
  auto held = l.admit("write", priority::critical, 6, at(0s), true);
  ASSERT_NE(held.job_id, 0u);
  EXPECT_TRUE(l.start(at(0s)).empty()); // held: not started
  EXPECT_EQ(l.unfinished_operations(), 6u);
  auto over = l.admit("write", priority::normal, 5, at(0s));
  EXPECT_EQ(over.reason, job_ledger::refusal::queue_full);
  bool running = false;
  EXPECT_FALSE(l.cancel(held.job_id, at(0s), running)); // not acknowledged
  EXPECT_TRUE(l.release(held.job_id));
  EXPECT_FALSE(l.release(held.job_id));
  EXPECT_EQ(l.start(at(1s)), std::vector<std::uint64_t>{held.job_id});
  EXPECT_FALSE(l.withdraw(held.job_id)); // released: no longer held
}

TEST(job_ledger, a_withdrawn_job_is_gone_and_its_id_not_reused) {
  auto l = ledger(2, 10);
  auto held = l.admit("write", priority::normal, 6, at(0s), true);
  EXPECT_TRUE(l.withdraw(held.job_id));
  EXPECT_FALSE(l.known(held.job_id));
  EXPECT_EQ(l.unfinished_operations(), 0u);
  auto next = l.admit("write", priority::normal, 10, at(0s));
  EXPECT_EQ(next.job_id, held.job_id + 1);
  EXPECT_EQ(l.violations(), 0u);
}

TEST(job_ledger, a_restored_job_resumes_with_its_recorded_outcomes) {
  auto l = ledger(2, 100);
  using st = operation_state;
  // Outcomes recorded for 0 and 2; 1 was in flight at the crash (queued
  // again), 3 queued.
  ASSERT_TRUE(l.restore(17, "write", priority::high,
                        {st::succeeded, st::in_flight, st::failed, st::queued},
                        at(0s)));
  EXPECT_FALSE(l.restore(17, "write", priority::high, {st::queued}, at(0s)));
  auto s = *l.status(17, at(0s));
  EXPECT_EQ(s.state, job_state::waiting);
  EXPECT_EQ(s.succeeded, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.queued, 2u);
  EXPECT_EQ(l.unfinished_operations(), 2u);
  EXPECT_EQ(l.start(at(1s)), std::vector<std::uint64_t>{17});
  operation_events ev;
  ev.finished = {done(17, 1), done(17, 3)};
  EXPECT_EQ(l.apply(ev, at(2s)), std::vector<std::uint64_t>{17});
  EXPECT_EQ(l.status(17, at(2s))->state, job_state::failed);
  // An outcome recorded before the restart cannot happen twice.
  ev.finished = {done(17, 0)};
  l.apply(ev, at(3s));
  EXPECT_EQ(l.violations(), 1u);
  // New ids continue after the restored ones.
  EXPECT_EQ(l.admit("read", priority::normal, 1, at(3s)).job_id, 18u);
}

TEST(job_ledger, a_restored_ended_job_keeps_its_end) {
  auto l = ledger(2, 100);
  using st = operation_state;
  ASSERT_TRUE(l.restore(5, "read", priority::normal,
                        {st::succeeded, st::cancelled}, at(0s),
                        job_state::cancelled, "cancelled"));
  auto s = *l.status(5, at(0s));
  EXPECT_EQ(s.state, job_state::cancelled);
  EXPECT_EQ(s.last_error, "cancelled");
  EXPECT_EQ(l.finished_jobs(), 1u);
  EXPECT_EQ(l.unfinished_operations(), 0u);
  EXPECT_TRUE(l.start(at(0s)).empty());
  l.reserve_ids_below(100);
  EXPECT_EQ(l.admit("read", priority::normal, 1, at(0s)).job_id, 100u);
}
