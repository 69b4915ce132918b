// The backend gate on the deterministic scheduler: permits are paced,
// Retry-After blocks every asker, failures open the breaker and the
// transition reaches subscribers.

#include <vector>

#include "actors/budget_authority_actor.hpp"
#include "actors/circuit_breaker_actor.hpp"

#include "tests/actors/actor_fixture.hpp"

using namespace batching;
using namespace batching::testing_support;
using namespace std::chrono_literals;

namespace {

/// Collects permits and breaker transitions, answers them on request.
using probe_actor = caf::typed_actor<
  caf::reacts_to<permit_atom, std::uint64_t>,
  caf::reacts_to<breaker_state_changed>,
  caf::replies_to<caf::get_atom>::with<std::vector<std::uint64_t>,
                                       std::vector<breaker_state_changed>>>;

struct probe_state {
  std::vector<std::uint64_t> permits;
  std::vector<breaker_state_changed> changes;
};

probe_actor::behavior_type
probe_impl(probe_actor::stateful_pointer<probe_state> self) {
  return {
    [=](permit_atom, std::uint64_t id) { self->state.permits.push_back(id); },
    [=](const breaker_state_changed& c) { self->state.changes.push_back(c); },
    [=](caf::get_atom) {
      return caf::make_result(self->state.permits, self->state.changes);
    },
  };
}

class gate_test : public actor_fixture {
protected:
  circuit_breaker_actor gate;
  probe_actor probe;

  void start(double rate, std::uint32_t in_flight = 4) {
    gate_config cfg;
    cfg.backend = "notion";
    cfg.breaker = {2, 10, 1};
    cfg.flow.initial_rate = rate;
    cfg.flow.max_in_flight = in_flight;
    gate = track(spawn_circuit_breaker(sys, cfg));
    probe = track(sys.spawn(probe_impl));
    caf::anon_send(gate, caf::subscribe_atom::value, breaker_listener{probe});
    sched.run();
  }

  void acquire(int n = 1) {
    for (int i = 0; i < n; ++i)
      caf::anon_send(gate, acquire_atom::value, permit_listener{probe});
    sched.run();
  }

  std::vector<std::uint64_t> permits() {
    std::vector<std::uint64_t> result;
    caf::scoped_actor self{sys};
    auto rh = self->request(probe, caf::infinite, caf::get_atom::value);
    sched.run();
    rh.receive([&](std::vector<std::uint64_t>& p,
                   std::vector<breaker_state_changed>&) { result = p; },
               [](caf::error&) {});
    return result;
  }

  std::vector<breaker_state_changed> changes() {
    std::vector<breaker_state_changed> result;
    caf::scoped_actor self{sys};
    auto rh = self->request(probe, caf::infinite, caf::get_atom::value);
    sched.run();
    rh.receive([&](std::vector<std::uint64_t>&,
                   std::vector<breaker_state_changed>& c) { result = c; },
               [](caf::error&) {});
    return result;
  }

  void report(std::uint64_t permit, batch_status status,
              duration retry_after = {}, duration latency = 20ms) {
    caf::anon_send(
      gate, request_completed{permit, true, status, retry_after, latency, {}});
    sched.run();
  }
};

} // namespace

TEST_F(gate_test, paces_permits_at_the_rate) {
  start(2); // one permit per 500 ms
  acquire(3);
  EXPECT_EQ(permits().size(), 1u);
  advance(499ms);
  EXPECT_EQ(permits().size(), 1u);
  advance(1ms);
  EXPECT_EQ(permits().size(), 2u);
  advance(500ms);
  EXPECT_EQ(permits().size(), 3u);
  auto status = ask<gate_status>(gate, caf::get_atom::value);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->backend, "notion");
  EXPECT_EQ(status->in_flight, 3u);
  EXPECT_EQ(status->waiting, 0u);
}

TEST_F(gate_test, retry_after_blocks_every_asker) {
  start(0); // unpaced
  acquire(1);
  ASSERT_EQ(permits().size(), 1u);
  report(permits()[0], batch_status::throttled, 3s);
  acquire(2);
  EXPECT_EQ(permits().size(), 1u);
  advance(2999ms);
  EXPECT_EQ(permits().size(), 1u);
  advance(1ms);
  EXPECT_GE(permits().size(), 2u); // then paced at the learned rate
  EXPECT_TRUE(changes().empty());  // 429 never opens the breaker
}

TEST_F(gate_test, a_volleys_429s_are_dated_from_their_permits) {
  // Four permits out at once, all throttled. The executor's latency (from
  // when it started the request) is shorter than the time since the
  // permit: dated by it, the later 429s seemed sent after the first one's
  // decrease, each a new block, and the backoff grew to 2.25 s. Dated
  // from the grant, they belong to that decrease: the next permit comes
  // when Retry-After ends.
  start(0, 4);
  acquire(1);
  report(permits()[0], batch_status::ok, {}, 5ms); // slow start: 2 in flight
  acquire(2);
  report(permits()[1], batch_status::ok, {}, 5ms); // 3
  report(permits()[2], batch_status::ok, {}, 5ms); // 4
  acquire(4);
  auto p = permits();
  ASSERT_EQ(p.size(), 7u);
  advance(50ms);
  report(p[3], batch_status::throttled, 1s, 5ms);
  advance(30ms);
  for (auto i : {4, 5, 6})
    report(p[i], batch_status::throttled, 1s, 5ms);
  acquire(1);
  advance(1s);
  EXPECT_EQ(permits().size(), 8u);
}

TEST_F(gate_test, failures_open_the_breaker_and_notify) {
  start(0); // unpaced: one request in flight until one succeeds
  acquire(1);
  report(permits()[0], batch_status::retryable_failure);
  acquire(1);
  auto p = permits();
  ASSERT_EQ(p.size(), 2u);
  report(p[1], batch_status::retryable_failure);
  auto c = changes();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].backend, "notion");
  EXPECT_EQ(c[0].to, breaker_state::open);
  acquire(1);
  EXPECT_EQ(permits().size(), 2u); // open: batches wait
  advance(10s);                    // open timeout -> half-open trial
  c = changes();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].to, breaker_state::half_open);
  ASSERT_EQ(permits().size(), 3u);
  report(permits()[2], batch_status::ok);
  c = changes();
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[2].to, breaker_state::closed);
}

TEST_F(gate_test, unused_permits_free_their_slot) {
  start(0, 1);
  acquire(2);
  ASSERT_EQ(permits().size(), 1u); // in-flight cap 1
  caf::anon_send(
    gate, request_completed{permits()[0], false, batch_status::ok, {}, {}, {}});
  sched.run();
  EXPECT_EQ(permits().size(), 2u);
}

// -- cluster mode: two nodes' gates share one budget authority ---------------

namespace {

class cluster_gate_test : public actor_fixture {
protected:
  budget_authority_actor authority;
  std::vector<circuit_breaker_actor> gates;
  std::vector<probe_actor> probes;

  void start(double rate, int nodes) {
    budget_authority::config ac;
    ac.rate = rate;
    ac.max_lease = 100;
    authority = track(spawn_budget_authority(sys, {{"notion", ac}}));
    for (int i = 0; i < nodes; ++i) {
      gate_config cfg;
      cfg.backend = "notion";
      cfg.flow.initial_rate = 0; // the lease alone limits the rate here
      cfg.flow.max_in_flight = 1000;
      cfg.authority = authority;
      cfg.node = "node" + std::to_string(i);
      gates.push_back(track(spawn_circuit_breaker(sys, cfg)));
      probes.push_back(track(sys.spawn(probe_impl)));
    }
    sched.run();
  }

  void acquire(int node, int n) {
    for (int i = 0; i < n; ++i)
      caf::anon_send(gates[static_cast<std::size_t>(node)], acquire_atom::value,
                     permit_listener{probes[static_cast<std::size_t>(node)]});
    sched.run();
  }

  std::vector<std::uint64_t> permits(int node) {
    std::vector<std::uint64_t> result;
    caf::scoped_actor self{sys};
    auto rh = self->request(probes[static_cast<std::size_t>(node)],
                            caf::infinite, caf::get_atom::value);
    sched.run();
    rh.receive([&](std::vector<std::uint64_t>& p,
                   std::vector<breaker_state_changed>&) { result = p; },
               [](caf::error&) {});
    return result;
  }

  /// Answers every permit of `node` not answered yet as sent and ok (a
  /// pacer that knows no rate lets one more request out per success).
  void complete_all(int node) {
    auto& done = completed_[node];
    for (auto permit : permits(node))
      if (done.insert(permit).second)
        caf::anon_send(
          gates[static_cast<std::size_t>(node)],
          request_completed{
            permit, true, batch_status::ok, duration{0}, duration{0}, {}});
    sched.run();
  }

  /// Advances `d` in 50 ms steps, answering every permit of every node
  /// as it goes (as a backend would).
  void run_for(duration d) {
    for (auto left = d; left > duration{0};) {
      auto step = std::min<duration>(left, std::chrono::milliseconds{50});
      for (int n = 0; n < static_cast<int>(gates.size()); ++n)
        complete_all(n);
      advance(step);
      left -= step;
    }
  }

  std::map<int, std::set<std::uint64_t>> completed_;
};

} // namespace

TEST_F(cluster_gate_test, two_nodes_share_one_window_budget) {
  start(4, 2); // 4 requests per 1 s window for the whole cluster, one
               // slot every 250 ms
  acquire(0, 10);
  acquire(1, 10);
  auto total = [&] { return permits(0).size() + permits(1).size(); };
  EXPECT_LE(total(), 1u); // one slot at a time
  run_for(999ms);
  EXPECT_LE(total(), 4u);
  EXPECT_GE(total(), 3u); // a slot may pass while a lease travels
  run_for(1s);            // the next window
  EXPECT_LE(total(), 8u);
  run_for(1s);
  EXPECT_LE(total(), 12u);
  EXPECT_GE(total(), 9u);
  EXPECT_GE(permits(1).size(), 2u); // both nodes got some
}

TEST_F(cluster_gate_test, a_429_on_one_node_pauses_the_other) {
  start(10, 2);
  acquire(0, 1);
  advance(100ms); // a slot comes up every 100 ms
  ASSERT_EQ(permits(0).size(), 1u);
  caf::anon_send(gates[0],
                 request_completed{
                   permits(0)[0], true, batch_status::throttled, 3s, 20ms, {}});
  sched.run();
  acquire(1, 5);
  EXPECT_TRUE(permits(1).empty()); // node1 never saw the 429 itself
  advance(2900ms);
  EXPECT_TRUE(permits(1).empty());
  advance(1100ms); // pause over (and a fresh window)
  EXPECT_FALSE(permits(1).empty());
}

TEST_F(cluster_gate_test, without_the_authority_a_local_share) {
  start(4, 2);
  acquire(0, 1);
  acquire(1, 1);
  run_for(600ms);                                       // two slots of 250 ms
  ASSERT_EQ(permits(0).size() + permits(1).size(), 2u); // both known
  caf::anon_send_exit(authority, caf::exit_reason::kill);
  sched.run();
  acquire(0, 10);
  // 4/s over the 2 known nodes: 2 per second here, no more.
  run_for(1s);
  auto after_one = permits(0).size();
  run_for(1s);
  EXPECT_EQ(permits(0).size() - after_one, 2u);
}

TEST_F(cluster_gate_test, a_restarted_authority_takes_over_from_the_fallback) {
  start(4, 2);
  acquire(0, 1);
  acquire(1, 1);
  advance(600ms);
  caf::anon_send_exit(authority, caf::exit_reason::kill);
  sched.run();
  acquire(0, 100);
  advance(2s); // fallback: 2 per second on this node
  // A new authority with a budget of 20/s; the rejoiner hands it over.
  budget_authority::config ac;
  ac.rate = 20;
  ac.max_lease = 100;
  auto fresh = track(spawn_budget_authority(sys, {{"notion", ac}}));
  caf::anon_send(gates[0], caf::put_atom::value, fresh);
  sched.run();
  // Requests complete as they would against a backend (the gate knows no
  // rate of its own here: each success lets one more be in flight).
  for (int i = 0; i < 10; ++i) {
    complete_all(0);
    advance(100ms); // leases from the fresh authority's next window on
  }
  auto before = permits(0).size();
  for (int i = 0; i < 10; ++i) {
    complete_all(0);
    advance(100ms);
  }
  // The new budget, not the fallback share of the old one.
  EXPECT_GE(permits(0).size() - before, 15u);
  EXPECT_LE(permits(0).size() - before, 20u);
}
