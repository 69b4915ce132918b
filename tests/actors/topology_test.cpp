// The whole topology (coordinator, batchers, gates, sampler) on the
// deterministic scheduler with a scripted executor: the coordinator's and
// the batchers' protocols, end to end, in virtual time.

#include <atomic>
#include <map>
#include <memory>
#include <set>

#include "runtime/system/topology.hpp"

#include "tests/actors/actor_fixture.hpp"

using namespace batching;
using namespace batching::testing_support;
using namespace std::chrono_literals;

namespace {

std::vector<operation> make_ops(std::uint64_t n, std::uint64_t first_id = 0,
                                std::size_t bytes = 10) {
  std::vector<operation> result;
  for (std::uint64_t i = 0; i < n; ++i)
    result.push_back({first_id + i, std::string(bytes, 'x')});
  return result;
}

runtime_config test_config() {
  runtime_config cfg;
  cfg.batching.linger_ms = 20;
  cfg.backends["default"].initial_requests_per_second = 0; // unpaced
  cfg.backends["default"].request_timeout_seconds = 5;
  cfg.batching.circuit_breaker = {3, 10, 1};
  return cfg;
}

class topology_test : public actor_fixture {
protected:
  topology t;
  std::shared_ptr<resource_snapshot> reading
    = std::make_shared<resource_snapshot>();
  std::vector<batch> seen; // every batch the executor got
  script behaviour = [](const batch&) {
    return std::optional{scripted_answer{ok_outcome(), 20ms}};
  };

  void start(runtime_config cfg = test_config(), bool sampler = false) {
    // Spawned again by the supervisor when it dies.
    executor_source exec{std::function<executor_actor()>{[this] {
      return spawn_scripted([this](const batch& b) {
        seen.push_back(b);
        return behaviour(b);
      });
    }}};
    std::shared_ptr<resource_probe> probe;
    if (sampler) {
      auto r = reading;
      probe = make_scripted_probe([r](time_point) { return *r; });
    }
    t = spawn_topology(sys, cfg, {{"default", exec}}, probe);
    track(t.coordinator);
    for (auto& [_, b] : t.batchers)
      track(b);
    for (auto& [_, g] : t.gates)
      track(g);
    if (t.sampler)
      track(t.sampler);
    track(t.supervisor);
    sched.run();
  }

  /// The supervisor's current actor of a role.
  caf::actor current(const std::string& role, const std::string& name) {
    auto a = ask<caf::actor>(t.supervisor, caf::get_atom::value, role, name);
    EXPECT_TRUE(a);
    return a ? *a : caf::actor{};
  }

  /// Kills the current actor of a role (as a crash would end it).
  void kill(const std::string& role, const std::string& name) {
    auto a = current(role, name);
    ASSERT_TRUE(a);
    caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  /// How many times each operation id reached the executor.
  std::map<std::uint64_t, int> sends() const {
    std::map<std::uint64_t, int> n;
    for (const auto& b : seen)
      for (const auto& op : b.operations)
        ++n[op.id];
    return n;
  }

  caf::expected<std::uint64_t> submit(std::string type, std::uint64_t n,
                                      priority prio = priority::normal,
                                      duration deadline = {}) {
    job_submission js{std::move(type), prio, make_ops(n), deadline};
    return ask<std::uint64_t>(t.coordinator, submit_atom::value, js);
  }

  job_status status(std::uint64_t id) {
    auto s = ask<job_status>(t.coordinator, status_atom::value, id);
    EXPECT_TRUE(s) << sys.render(s.error());
    return s ? *s : job_status{};
  }

  dashboard board() {
    auto d = ask<dashboard>(t.coordinator, dashboard_atom::value);
    EXPECT_TRUE(d);
    return d ? *d : dashboard{};
  }

  /// A worker node's batchers (in this actor system, registered as a
  /// remote worker's would be) around `exec`.
  topology join_worker(executor_actor exec) {
    cluster_membership as_worker;
    as_worker.coordinator = t.coordinator;
    auto w = spawn_topology(sys, test_config(), {{"default", exec}}, nullptr, 7,
                            as_worker);
    for (auto& [_, b] : w.batchers)
      track(b);
    for (auto& [_, g] : w.gates)
      track(g);
    track(w.optimizer);
    auto node = ask<std::uint32_t>(t.coordinator, join_atom::value,
                                   worker_registration{"w", w.batchers});
    EXPECT_TRUE(node);
    EXPECT_EQ(node ? *node : 0u, 2u);
    return w;
  }
};

} // namespace

TEST_F(topology_test, a_job_completes_in_capped_batches) {
  start();
  auto id = submit("write", 250);
  ASSERT_TRUE(id) << sys.render(id.error());
  advance(5s);
  auto s = status(*id);
  EXPECT_EQ(s.state, job_state::completed);
  EXPECT_EQ(s.succeeded, 250u);
  EXPECT_EQ(s.queued + s.in_flight + s.failed + s.cancelled, 0u);
  ASSERT_FALSE(seen.empty());
  for (const auto& b : seen) {
    EXPECT_LE(b.operations.size(), 100u); // the backend's item cap
    EXPECT_EQ(b.op_type, "write");
  }
  auto d = board();
  EXPECT_EQ(d.coordinator.completed_jobs, 1u);
  EXPECT_EQ(d.coordinator.ledger_violations, 0u);
  ASSERT_EQ(d.batching.size(), 2u);
  EXPECT_EQ(d.batching[1].op_type, "write");
  EXPECT_EQ(d.batching[1].succeeded, 250u);
  EXPECT_DOUBLE_EQ(d.performance.success_rate, 1.0);
}

TEST_F(topology_test, bad_jobs_are_rejected_whole) {
  auto cfg = test_config();
  cfg.coordinator.max_queued_operations = 100;
  start(cfg);
  auto empty = submit("read", 0);
  ASSERT_FALSE(empty);
  EXPECT_EQ(code_of(empty.error()), error_code::empty_job);
  auto unknown = submit("delete", 5);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(code_of(unknown.error()), error_code::unknown_operation_type);
  EXPECT_EQ(sys.render(unknown.error()),
            "batching_error(unknown_operation_type: unknown operation type "
            "'delete' (configured: read, write))");
  auto full = submit("read", 101);
  ASSERT_FALSE(full);
  EXPECT_EQ(code_of(full.error()), error_code::queue_full);
  EXPECT_EQ(board().coordinator.queued_operations, 0u);
  auto missing
    = ask<job_status>(t.coordinator, status_atom::value, std::uint64_t{42});
  ASSERT_FALSE(missing);
  EXPECT_EQ(code_of(missing.error()), error_code::unknown_job);
}

TEST_F(topology_test, waiting_jobs_start_by_priority) {
  auto cfg = test_config();
  cfg.coordinator.max_concurrent_jobs = 1;
  start(cfg);
  auto first = *submit("read", 10, priority::low);
  auto low = *submit("read", 10, priority::low);
  auto critical = *submit("read", 10, priority::critical);
  EXPECT_EQ(status(low).state, job_state::waiting);
  advance(10s);
  EXPECT_EQ(status(first).state, job_state::completed);
  EXPECT_EQ(status(low).state, job_state::completed);
  EXPECT_LE(status(critical).finished_at, status(low).started_at);
}

TEST_F(topology_test, wait_answers_when_the_job_finishes) {
  start();
  auto id = *submit("read", 5);
  caf::scoped_actor self{sys};
  auto rh = self->request(t.coordinator, caf::infinite, wait_atom::value, id);
  advance(1s);
  bool done = false;
  rh.receive(
    [&](job_status& s) {
      done = true;
      EXPECT_EQ(s.state, job_state::completed);
    },
    [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
  EXPECT_TRUE(done);
}

TEST_F(topology_test, cancel_finishes_every_operation) {
  behaviour = [](const batch&) -> std::optional<scripted_answer> {
    return scripted_answer{ok_outcome(), 2s}; // slow backend
  };
  auto cfg = test_config();
  cfg.backends["default"].max_in_flight = 1;
  start(cfg);
  auto id = *submit("read", 300);
  advance(100ms); // one batch in flight, the rest queued
  auto c = ask<job_status>(t.coordinator, cancel_atom::value, id);
  ASSERT_TRUE(c);
  advance(5s);
  auto s = status(id);
  EXPECT_EQ(s.state, job_state::cancelled);
  EXPECT_EQ(s.succeeded + s.cancelled, 300u);
  EXPECT_GT(s.cancelled, 0u);
  auto again = ask<job_status>(t.coordinator, cancel_atom::value, id);
  ASSERT_FALSE(again);
  EXPECT_EQ(code_of(again.error()), error_code::job_finished);
}

TEST_F(topology_test, throttling_is_retried_after_retry_after) {
  int calls = 0;
  behaviour = [&calls](const batch&) -> std::optional<scripted_answer> {
    if (++calls == 1) {
      auto o = ok_outcome();
      o.status = batch_status::throttled;
      o.retry_after = 2s;
      return scripted_answer{o, 10ms};
    }
    return scripted_answer{ok_outcome(), 10ms};
  };
  start();
  auto id = *submit("write", 10);
  advance(1s);
  EXPECT_EQ(status(id).succeeded, 0u); // blocked by Retry-After
  advance(2s);
  auto s = status(id);
  EXPECT_EQ(s.succeeded, 10u);
  EXPECT_EQ(board().batching[1].throttled, 1u);
}

TEST_F(topology_test, an_open_breaker_holds_batches_until_the_deadline) {
  behaviour = [](const batch&) -> std::optional<scripted_answer> {
    auto o = ok_outcome();
    o.status = batch_status::retryable_failure;
    o.message = "HTTP 503";
    return scripted_answer{o, 10ms};
  };
  auto cfg = test_config();
  cfg.backends["default"].retry_base_ms = 1;
  cfg.backends["default"].retry_max_ms = 1;
  cfg.backends["default"].max_attempts = 100;
  cfg.batching.circuit_breaker = {3, 60, 1};
  start(cfg);
  auto id = *submit("read", 10, priority::normal, 5s);
  advance(1s);
  auto d = board();
  EXPECT_EQ(d.batching[0].breaker, breaker_state::open);
  EXPECT_TRUE(d.batching[0].circuit_breaker_active);
  auto s = status(id);
  EXPECT_EQ(s.failed, 0u); // waiting, not failed
  advance(5s);
  s = status(id);
  EXPECT_EQ(s.failed, 10u);
  EXPECT_EQ(s.last_error, "deadline exceeded");
}

TEST_F(topology_test, a_critical_alert_halves_concurrent_jobs) {
  auto cfg = test_config();
  cfg.coordinator.max_concurrent_jobs = 8;
  cfg.resource_thresholds.cpu = {70, 85, 5};
  start(cfg, true);
  reading->cpu_percent = 95;
  advance(7s);
  auto d = board();
  EXPECT_EQ(d.coordinator.max_concurrent_jobs, 4u);
  ASSERT_EQ(d.active_alerts.size(), 1u);
  EXPECT_EQ(d.active_alerts[0].level, alert_level::critical);
  EXPECT_DOUBLE_EQ(d.resources.cpu_percent, 95);
  reading->cpu_percent = 10;
  advance(7s);
  d = board();
  EXPECT_EQ(d.coordinator.max_concurrent_jobs, 8u);
  EXPECT_TRUE(d.active_alerts.empty());
}

TEST_F(topology_test, finished_jobs_are_forgotten_after_the_retention) {
  auto cfg = test_config();
  cfg.coordinator.finished_job_retention_seconds = 60;
  start(cfg);
  auto old_job = *submit("read", 5);
  advance(1s);
  EXPECT_EQ(status(old_job).state, job_state::completed);
  advance(61s);
  auto fresh = *submit("read", 5); // its events trigger the pruning
  advance(2s);
  EXPECT_EQ(status(fresh).state, job_state::completed);
  auto gone = ask<job_status>(t.coordinator, status_atom::value, old_job);
  ASSERT_FALSE(gone);
  EXPECT_EQ(code_of(gone.error()), error_code::unknown_job);
}

// A worker node's batchers (here in the same actor system, registered as
// a remote worker would be): a job is spread over both nodes; when the
// worker dies mid-run its share is requeued on this node, and every
// operation still ends exactly once in the ledger.
TEST_F(topology_test, a_lost_workers_operations_move_to_the_survivors) {
  start();
  std::vector<batch> worker_seen;
  std::set<std::uint64_t> worker_done; // answered by the worker
  bool worker_answers = true;
  auto worker_exec = spawn_scripted([&](const batch& b) {
    worker_seen.push_back(b);
    if (worker_answers)
      for (const auto& op : b.operations)
        worker_done.insert(op.id);
    return worker_answers ? std::optional{scripted_answer{ok_outcome(), 20ms}}
                          : std::nullopt; // hangs: its batches stay in flight
  });
  auto w = join_worker(worker_exec);
  EXPECT_EQ(board().coordinator.worker_nodes, 1u);

  auto id = submit("write", 2000);
  ASSERT_TRUE(id);
  advance(50ms);
  std::set<std::uint64_t> on_worker;
  for (const auto& b : worker_seen)
    for (const auto& op : b.operations)
      on_worker.insert(op.id);
  // Half the job each (chunks of at least 500 operations).
  EXPECT_FALSE(on_worker.empty());
  EXPECT_TRUE(on_worker.count(1000));
  EXPECT_FALSE(on_worker.count(999));
  worker_answers = false; // the worker stops answering, then dies
  advance(100ms);
  for (auto& [_, b] : w.batchers)
    caf::anon_send_exit(b, caf::exit_reason::kill);
  sched.run();
  advance(10s);
  auto s = status(*id);
  EXPECT_EQ(s.state, job_state::completed);
  EXPECT_EQ(s.succeeded, 2000u);
  auto d = board();
  EXPECT_EQ(d.coordinator.ledger_violations, 0u);
  EXPECT_EQ(d.coordinator.worker_nodes, 0u);
  EXPECT_EQ(d.coordinator.lost_nodes, 1u);
  // What the worker had not finished was sent again from here, and only
  // that: here and the worker's answers cover the job, without overlap.
  std::set<std::uint64_t> here;
  for (const auto& b : seen)
    for (const auto& op : b.operations)
      here.insert(op.id);
  EXPECT_FALSE(worker_done.empty());
  EXPECT_LT(worker_done.size(), on_worker.size() + 1000);
  std::size_t overlap = 0;
  for (auto op : worker_done)
    overlap += here.count(op);
  EXPECT_EQ(overlap, 0u);
  EXPECT_EQ(here.size() + worker_done.size(), 2000u);
  EXPECT_TRUE(here.count(1999)); // the worker's half, requeued here
}

// A job being cancelled when its worker is lost: what the worker held is
// cancelled by the coordinator, not sent again.
TEST_F(topology_test, a_lost_workers_share_of_a_cancelled_job_is_cancelled) {
  start();
  auto worker_exec = spawn_scripted([](const batch&) {
    return std::optional<scripted_answer>{}; // hangs
  });
  auto w = join_worker(worker_exec);
  behaviour = [](const batch&) { return std::optional<scripted_answer>{}; };
  auto id = submit("write", 2000);
  ASSERT_TRUE(id);
  advance(50ms);
  auto c = ask<job_status>(t.coordinator, cancel_atom::value, *id);
  ASSERT_TRUE(c);
  for (auto& [_, b] : w.batchers)
    caf::anon_send_exit(b, caf::exit_reason::kill);
  sched.run();
  auto sent_before = seen.size();
  behaviour = [](const batch&) {
    return std::optional{scripted_answer{ok_outcome(), 20ms}};
  };
  advance(10s);
  auto s = status(*id);
  EXPECT_EQ(s.queued + s.in_flight, 0u) << "every operation finished";
  EXPECT_EQ(s.state, job_state::cancelled);
  EXPECT_GE(s.cancelled, 1000u - 200u); // the worker's half at least, less
                                        // what it had in flight (lost)
  EXPECT_EQ(board().coordinator.ledger_violations, 0u);
  // Nothing of the worker's share was sent from here.
  for (auto i = sent_before; i < seen.size(); ++i)
    for (const auto& op : seen[i].operations)
      EXPECT_LT(op.id, 1000u);
}

// Supervision (actors/supervisor_actor.hpp): an actor killed mid-run is
// spawned again and nothing is lost or finished twice.
TEST_F(topology_test, a_killed_batcher_is_restarted_and_nothing_is_lost) {
  start();
  behaviour = [](const batch&) {
    return std::optional{scripted_answer{ok_outcome(), 300ms}};
  };
  auto id = submit("write", 1000);
  ASSERT_TRUE(id);
  auto first = current("batcher", "write");
  advance(100ms); // batches in flight, the rest queued
  ASSERT_FALSE(seen.empty());
  kill("batcher", "write");
  auto second = current("batcher", "write");
  EXPECT_NE(first, second);
  advance(30s);
  auto s = status(*id);
  EXPECT_EQ(s.state, job_state::completed);
  EXPECT_EQ(s.succeeded, 1000u);
  auto n = sends();
  EXPECT_EQ(n.size(), 1000u); // every operation reached the backend
  int twice = 0;
  for (auto [_, k] : n)
    twice += k > 1;
  EXPECT_GT(twice, 0);   // what the dead one had in flight went again
  EXPECT_LE(twice, 400); // and only that: at most its requests in flight
  auto d = board();
  EXPECT_EQ(d.coordinator.actor_restarts, 1u);
  EXPECT_EQ(d.coordinator.ledger_violations, 0u);
  EXPECT_EQ(d.coordinator.queued_operations, 0u);
}

TEST_F(topology_test, a_killed_gate_is_restarted_and_permits_flow_again) {
  auto cfg = test_config();
  cfg.backends["default"].initial_requests_per_second = 20; // paced
  start(cfg);
  auto id = submit("write", 2000);
  ASSERT_TRUE(id);
  advance(200ms);
  kill("gate", "default"); // with the write batcher waiting for a permit
  advance(200ms);
  kill("gate", "default"); // and again: a crash loop backs off
  advance(60s);
  auto s = status(*id);
  EXPECT_EQ(s.state, job_state::completed);
  EXPECT_EQ(s.succeeded, 2000u);
  EXPECT_EQ(sends().size(), 2000u);
  auto d = board();
  EXPECT_EQ(d.coordinator.actor_restarts, 2u);
  EXPECT_EQ(d.coordinator.ledger_violations, 0u);
  // The dashboard reads the new gate.
  ASSERT_EQ(d.batching.size(), 2u);
  EXPECT_GT(d.batching[1].request_rate, 0);
}

// A gate restarted while a Retry-After holds: its successor sends nothing
// before it either (the old pacer of a restarted gate knew no block and
// sent at once: `batching check sim/scenarios/notion_burst_10x.yaml
// --cases 15 --seed 4` killed the gate 1 s into an 8 s Retry-After).
TEST_F(topology_test, a_restarted_gate_honours_its_predecessors_retry_after) {
  int calls = 0;
  behaviour = [&calls](const batch&) -> std::optional<scripted_answer> {
    if (++calls == 1) {
      auto o = ok_outcome();
      o.status = batch_status::throttled;
      o.retry_after = 5s;
      return scripted_answer{o, 10ms};
    }
    return scripted_answer{ok_outcome(), 10ms};
  };
  start();
  auto id = *submit("write", 10);
  advance(1s);
  ASSERT_EQ(calls, 1);
  kill("gate", "default");
  advance(3900ms); // 4.9 s in: still within the 5 s the backend asked for
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(status(id).succeeded, 0u);
  advance(2s);
  EXPECT_EQ(status(id).succeeded, 10u);
  EXPECT_EQ(board().coordinator.actor_restarts, 1u);
}

// Live changes go through the supervisor: the current batcher and gate
// take them at once, and their successors after a crash start from them.
TEST_F(topology_test, live_changes_reach_the_actors_and_survive_restarts) {
  start();
  sizing_change c{strategy_kind::fixed, 5, 100, 37, false, false};
  auto kept = [&](auto&&... xs) {
    auto r = ask<bool>(t.supervisor, reconfigure_atom::value, xs...);
    return r && *r;
  };
  EXPECT_TRUE(kept(std::string{"write"}, c));
  EXPECT_FALSE(kept(std::string{"nosuch"}, c));
  EXPECT_TRUE(kept(std::string{"default"}, 7.0));
  sched.run();
  auto metrics = [&] {
    return ask<batching_metrics>(
      caf::actor_cast<batcher_actor>(current("batcher", "write")),
      metrics_atom::value);
  };
  auto gate = [&] {
    return ask<gate_status>(
      caf::actor_cast<circuit_breaker_actor>(current("gate", "default")),
      caf::get_atom::value);
  };
  ASSERT_TRUE(metrics());
  EXPECT_EQ(metrics()->strategy, strategy_kind::fixed);
  EXPECT_EQ(metrics()->current_batch_size, 37u);
  ASSERT_TRUE(gate());
  EXPECT_DOUBLE_EQ(gate()->request_rate, 7.0);
  kill("batcher", "write");
  kill("gate", "default");
  advance(1s);
  ASSERT_TRUE(metrics());
  EXPECT_EQ(metrics()->strategy, strategy_kind::fixed);
  EXPECT_EQ(metrics()->current_batch_size, 37u);
  ASSERT_TRUE(gate());
  EXPECT_DOUBLE_EQ(gate()->request_rate, 7.0);
  // Max concurrent jobs: the coordinator answers once applied.
  auto applied
    = ask<bool>(t.coordinator, reconfigure_atom::value, std::uint32_t{2});
  EXPECT_TRUE(applied && *applied);
}

TEST_F(topology_test, a_killed_executor_is_restarted_and_its_batches_retried) {
  start();
  behaviour = [](const batch&) {
    return std::optional{scripted_answer{ok_outcome(), 1s}};
  };
  auto id = submit("read", 500);
  ASSERT_TRUE(id);
  advance(100ms);
  auto before = seen.size();
  ASSERT_GT(before, 0u);
  kill("executor", "default");
  advance(60s);
  auto s = status(*id);
  EXPECT_EQ(s.state, job_state::completed);
  EXPECT_EQ(s.succeeded, 500u);
  EXPECT_EQ(s.failed, 0u); // one failed attempt each, retried
  EXPECT_GT(seen.size(), before);
  auto d = board();
  EXPECT_EQ(d.coordinator.actor_restarts, 1u);
  EXPECT_EQ(d.coordinator.ledger_violations, 0u);
}

// Killed while a cancel of its job was on its way: the operations it held
// are cancelled by the coordinator, never sent again.
TEST_F(topology_test, a_killed_batchers_cancelled_job_is_not_sent_again) {
  start();
  behaviour = [](const batch&) { return std::optional<scripted_answer>{}; };
  auto id = submit("write", 300);
  ASSERT_TRUE(id);
  advance(50ms);
  caf::anon_send_exit(current("batcher", "write"), caf::exit_reason::kill);
  auto c = ask<job_status>(t.coordinator, cancel_atom::value, *id);
  ASSERT_TRUE(c);
  auto sent_before = seen.size();
  advance(10s);
  auto s = status(*id);
  EXPECT_EQ(s.state, job_state::cancelled);
  EXPECT_EQ(s.queued + s.in_flight, 0u);
  EXPECT_EQ(s.cancelled, 300u);
  EXPECT_EQ(seen.size(), sent_before);
  EXPECT_EQ(board().coordinator.ledger_violations, 0u);
}
