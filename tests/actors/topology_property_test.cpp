// The whole topology under random jobs, priorities, cancellations, every
// strategy and every flow controller (ours and the peers'), and executor
// behaviour (latencies, exceptions, 429 with Retry-After, retryable and
// permanent errors, per-item failures, requests that never answer, outage
// windows, and late answers: the backend processed the batch but its answer
// arrives after the timeout, or never), and batchers, gates and executors
// killed mid-run (the supervisor restarts them), on the deterministic
// scheduler: every operation reaches exactly one terminal state; none is
// sent again after the runtime recorded its success; without kills, none
// after its success was acknowledged to the runtime, the backend sees an
// operation twice only when an answer accepting it was lost (at least once,
// never more than needed), and the operations the jobs count as succeeded
// are exactly those whose acceptance the runtime was told of (with kills:
// a subset of those the backend accepted). 1,000 cases by default.

#include <set>
#include <stdexcept>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/enum_names.hpp"
#include "runtime/policy/random.hpp"
#include "runtime/system/topology.hpp"

#include "tests/actors/actor_fixture.hpp"

using namespace batching;
using namespace batching::testing_support;
using namespace std::chrono_literals;

namespace {

class topology_property : public actor_fixture {};

} // namespace

TEST_F(topology_property, every_operation_finishes_exactly_once) {
  // CTest runs this with max_success=1000 (tests/CMakeLists.txt).
  EXPECT_TRUE(
    rc::check("the topology finishes every operation exactly once", [&] {
      // A fresh system per case: the fixture's is only used for its types.
      deterministic_config case_cfg;
      caf::actor_system case_sys{case_cfg};
      auto& case_sched
        = dynamic_cast<caf::scheduler::test_coordinator&>(case_sys.scheduler());
      seeded_random rng{*rc::gen::arbitrary<std::uint64_t>()};
      runtime_config cfg;
      cfg.coordinator.max_concurrent_jobs = *rc::gen::inRange(1, 4);
      cfg.batching.linger_ms = *rc::gen::inRange(0, 100);
      cfg.batching.min_batch_size = 1;
      auto& be = cfg.backends["default"];
      be.max_in_flight = *rc::gen::inRange(1, 5);
      be.max_items_per_request = *rc::gen::inRange(1, 30);
      be.max_request_bytes = *rc::gen::inRange(20, 400);
      be.initial_requests_per_second = *rc::gen::element(0.0, 5.0, 50.0);
      be.max_attempts = *rc::gen::inRange(1, 5);
      be.retry_base_ms = 50;
      be.retry_max_ms = 500;
      be.request_timeout_seconds = 1;
      cfg.batching.circuit_breaker
        = {static_cast<std::uint32_t>(*rc::gen::inRange(2, 6)),
           *rc::gen::inRange(1, 5) * 1.0, 1};
      for (auto& [_, op] : cfg.operation_configs) {
        op.preferred_batch_size = *rc::gen::inRange(1, 40);
        op.strategy = static_cast<strategy_kind>(*rc::gen::inRange<std::size_t>(
          0, enum_names<strategy_kind>::names.size()));
      }
      be.flow_control = static_cast<flow_kind>(
        *rc::gen::inRange<std::size_t>(0, enum_names<flow_kind>::names.size()));
      auto outage_from = std::chrono::seconds{*rc::gen::inRange(0, 20)};
      auto outage_len = std::chrono::seconds{*rc::gen::inRange(0, 8)};

      // What the backend did, by operation id: accepted and told the
      // runtime so (acked); accepted but the answer came too late or never
      // (silent: the runtime cannot know, and must send it again).
      // A second acceptance is then always of a silent one: a resend after
      // an ack is the one the runtime must never make.
      std::set<std::uint64_t> acked, silent;
      // What the coordinator reported succeeded (it observes the ledger).
      std::set<std::uint64_t> recorded_ok;
      bool resent_after_record = false;
      bool resent_after_ack = false, resent_after_silent = false;
      auto start_time = case_sched.clock().now();
      auto now_fn = [&] { return case_sched.clock().now() - start_time; };
      script backend{[&](const batch& b) -> std::optional<scripted_answer> {
        for (const auto& op : b.operations) {
          if (recorded_ok.count(op.id))
            resent_after_record = true;
          if (acked.count(op.id))
            resent_after_ack = true;
          if (silent.count(op.id))
            resent_after_silent = true;
        }
        auto t = now_fn();
        batch_outcome o;
        o.latency = std::chrono::milliseconds{5 + rng.next() % 200};
        if (t >= outage_from && t < outage_from + outage_len) {
          o.status = batch_status::retryable_failure;
          o.message = "HTTP 503";
          return scripted_answer{o, o.latency};
        }
        auto roll = rng.next() % 100;
        if (roll < 5)
          return std::nullopt; // never answers: the request times out
        if (roll < 9) {        // processed, but the answer is lost or too late
          for (const auto& op : b.operations)
            silent.insert(op.id);
          o.status = batch_status::ok;
          if (roll < 7)
            return std::nullopt;
          return scripted_answer{o, std::chrono::seconds{5}}; // > timeout
        }
        if (roll < 12)
          throw std::runtime_error("connection reset"); // executor throws
        if (roll < 15) {
          o.status = batch_status::throttled;
          o.retry_after = std::chrono::seconds{rng.next() % 3};
        } else if (roll < 25) {
          o.status = batch_status::retryable_failure;
        } else if (roll < 30) {
          o.status = batch_status::permanent_failure;
        } else {
          o.status = batch_status::ok;
          bool per_item = roll < 40;
          for (const auto& op : b.operations) {
            auto st = per_item ? static_cast<item_status>(rng.next() % 3)
                               : item_status::ok;
            if (per_item)
              o.items.push_back({op.id, st, "item"});
            if (st == item_status::ok)
              acked.insert(op.id);
          }
        }
        return scripted_answer{o, o.latency};
      }};
      // Restartable: a successor serves the same scripted backend.
      executor_source exec{std::function<executor_actor()>{
        [&] { return sim::spawn_delayed_executor(case_sys, backend); }}};
      auto t = spawn_topology(case_sys, cfg, {{"default", exec}}, nullptr,
                              *rc::gen::arbitrary<std::uint64_t>());
      auto observer = case_sys.spawn(
        [&](events_listener::pointer) -> events_listener::behavior_type {
          return {[&](const operation_events& e) {
            for (const auto& f : e.finished)
              if (f.state == operation_state::succeeded)
                recorded_ok.insert(f.operation_id);
          }};
        });
      caf::anon_send(t.coordinator, caf::subscribe_atom::value, observer);
      case_sched.run();
      // Stops every actor however the case ends (a failed RC_ASSERT
      // throws), else ~actor_system would wait for them forever.
      struct stopper {
        std::function<void()> fn;
        ~stopper() { fn(); }
      } stop_all{[&] {
        t.shutdown();
        caf::anon_send_exit(exec.actor, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
        case_sched.run();
        while (case_sched.clock().trigger_timeout())
          case_sched.run();
      }};

      auto advance_case = [&](duration d) { advance_clock(case_sched, d); };
      // Asks and hands the answer to `on_ok`; false when an error came.
      auto ask_case = [&](auto handle, auto on_ok, auto... xs) {
        caf::scoped_actor self{case_sys};
        auto rh = self->request(handle, caf::infinite, xs...);
        case_sched.run();
        bool ok = true;
        rh.receive(on_ok, [&](caf::error&) { ok = false; });
        return ok;
      };

      std::vector<std::uint64_t> jobs;
      std::uint64_t next_op = 1;
      auto steps = *rc::gen::inRange(1, 12);
      // Half the cases kill actors now and then (as a crash would).
      bool killing = *rc::gen::arbitrary<bool>();
      std::uint32_t kills = 0;
      std::set<caf::actor_addr> dead;

      for (int i = 0; i < steps; ++i) {
        if (killing && *rc::gen::inRange(0, 3) == 0) {
          auto [role, name] = *rc::gen::element(
            std::pair<std::string, std::string>{"batcher", "read"},
            std::pair<std::string, std::string>{"batcher", "write"},
            std::pair<std::string, std::string>{"gate", "default"},
            std::pair<std::string, std::string>{"executor", "default"});
          caf::actor victim;
          RC_ASSERT(ask_case(
            t.supervisor, [&](caf::actor& a) { victim = a; },
            caf::get_atom::value, role, name));
          // None while its restart waits (a crash loop backs off).
          if (victim && dead.insert(victim.address()).second) {
            caf::anon_send_exit(victim, caf::exit_reason::kill);
            case_sched.run();
            ++kills;
          }
        }
        if (*rc::gen::inRange(0, 4) == 0 && !jobs.empty()) {
          auto id = *rc::gen::elementOf(jobs);
          ask_case(
            t.coordinator, [](job_status&) {}, cancel_atom::value, id);
        } else {
          job_submission js;
          js.op_type = *rc::gen::element<std::string>("read", "write");
          js.prio = static_cast<priority>(*rc::gen::inRange(0, 4));
          if (*rc::gen::inRange(0, 4) == 0)
            js.deadline = std::chrono::seconds{*rc::gen::inRange(1, 30)};
          auto n = *rc::gen::inRange(1, 40);
          for (int k = 0; k < n; ++k)
            js.operations.push_back(
              {next_op++, std::string(rng.next() % 30, 'p')});
          RC_ASSERT(ask_case(
            t.coordinator, [&](std::uint64_t id) { jobs.push_back(id); },
            submit_atom::value, js));
        }
        advance_case(std::chrono::milliseconds{*rc::gen::inRange(0, 3000)});
      }
      // Run until nothing is unfinished: retries are bounded, breakers
      // close, deadlines pass. The bound (a virtual day) only guards the
      // test against a livelock, which would fail the asserts below.
      auto unfinished = [&] {
        dashboard d;
        ask_case(
          t.coordinator, [&](dashboard& x) { d = x; }, dashboard_atom::value);
        return d.coordinator.queued_operations;
      };
      advance_case(60s); // past any delayed restart (at most 30 s)
      for (int k = 0; k < 1440 && unfinished() > 0; ++k)
        advance_case(60s);

      RC_ASSERT(!resent_after_record);
      // A kill loses the answers the dead actor had not passed on: those
      // are sent again like late ones.
      RC_ASSERT(kills > 0 || !resent_after_ack);
      RC_TAG(silent.empty()        ? "no late answers"
             : resent_after_silent ? "late answers, sent again"
                                   : "late answers");
      RC_TAG(kills > 0 ? "actors killed" : "no kills");
      std::uint64_t total_succeeded = 0;
      for (auto id : jobs) {
        job_status s;
        RC_ASSERT(ask_case(
          t.coordinator, [&](job_status& x) { s = x; }, status_atom::value,
          id));
        RC_ASSERT(s.queued == 0u);
        RC_ASSERT(s.in_flight == 0u);
        RC_ASSERT(s.succeeded + s.failed + s.cancelled == s.total);
        RC_ASSERT(s.state != job_state::waiting);
        RC_ASSERT(s.state != job_state::running);
        total_succeeded += s.succeeded;
      }
      RC_ASSERT(total_succeeded == recorded_ok.size());
      for (auto id : recorded_ok)
        RC_ASSERT(acked.count(id) > 0);
      if (kills == 0)
        RC_ASSERT(total_succeeded == acked.size());
      dashboard d;
      RC_ASSERT(ask_case(
        t.coordinator, [&](dashboard& x) { d = x; }, dashboard_atom::value));
      RC_ASSERT(d.coordinator.actor_restarts == kills);
      RC_ASSERT(d.coordinator.ledger_violations == 0u);
      RC_ASSERT(d.coordinator.queued_operations == 0u);
    }));
}
