#include <map>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/batch_engine.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

batch_engine::config engine_config(std::size_t max_items = 3,
                                   std::uint32_t attempts = 2) {
  batch_engine::config cfg;
  cfg.op_type = "write";
  cfg.sizing = {1, 100, 3, 500, 0.05, 0.2};
  cfg.strategy = strategy_kind::balanced;
  cfg.queue = {max_items, 100, 10ms, 4};
  cfg.retry = {attempts, 100ms, 1s};
  return cfg;
}

std::vector<operation> ops(std::uint64_t n, std::size_t bytes = 5) {
  std::vector<operation> result;
  for (std::uint64_t i = 0; i < n; ++i)
    result.push_back({1000 + i, std::string(bytes, 'p')});
  return result;
}

batch_outcome outcome(const batch& b, batch_status status,
                      duration retry_after = {}) {
  batch_outcome o;
  o.batch_id = b.batch_id;
  o.status = status;
  o.retry_after = retry_after;
  o.latency = 20ms;
  o.message = to_string(status);
  return o;
}

} // namespace

TEST(batch_engine, sends_ready_batches_and_finishes_operations) {
  batch_engine e{engine_config()};
  e.enqueue(7, priority::normal, {}, 0, ops(4), at(0ms));
  ASSERT_TRUE(e.needs_permit(at(0ms)));
  e.permit_requested();
  EXPECT_FALSE(e.needs_permit(at(0ms))); // one permit at a time
  auto b = e.take_batch(at(1ms));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->operations.size(), 3u);
  EXPECT_EQ(b->operations[0].id, 1000u);
  EXPECT_EQ(b->op_type, "write");
  EXPECT_EQ(b->attempt, 1u);
  auto ev = e.take_events();
  EXPECT_EQ(ev.sent, (std::vector<op_ref>{{7, 0}, {7, 1}, {7, 2}}));
  e.on_outcome(outcome(*b, batch_status::ok), at(30ms));
  ev = e.take_events();
  ASSERT_EQ(ev.finished.size(), 3u);
  EXPECT_EQ(ev.finished[0].state, operation_state::succeeded);
  EXPECT_EQ(ev.finished[0].latency, 30ms);
  EXPECT_EQ(ev.finished[2].index, 2u);
  // The 4th operation waits for its linger.
  EXPECT_FALSE(e.needs_permit(at(9ms)));
  EXPECT_TRUE(e.needs_permit(at(30ms)));
}

TEST(batch_engine, throttled_operations_keep_their_place_and_attempts) {
  batch_engine e{engine_config()};
  e.enqueue(1, priority::normal, {}, 0, ops(3), at(0ms));
  auto b = e.take_batch(at(0ms));
  e.on_outcome(outcome(*b, batch_status::throttled, 1s), at(10ms));
  auto ev = e.take_events();
  EXPECT_EQ(ev.requeued.size(), 3u);
  EXPECT_TRUE(ev.finished.empty());
  auto again = e.take_batch(at(20ms));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->operations, b->operations);
  EXPECT_EQ(again->attempt, 1u); // the throttled attempt did not count
  EXPECT_EQ(e.metrics(at(20ms)).throttled, 1u);
}

TEST(batch_engine, retries_with_backoff_then_fails) {
  batch_engine e{engine_config(3, 2)};
  e.enqueue(1, priority::normal, {}, 0, ops(1), at(0ms));
  auto b = e.take_batch(at(0ms));
  e.on_outcome(outcome(*b, batch_status::retryable_failure), at(10ms));
  EXPECT_EQ(e.take_events().requeued.size(), 1u);
  EXPECT_FALSE(e.needs_permit(at(10ms))); // backing off
  auto wake = e.next_wakeup(at(10ms));
  ASSERT_TRUE(wake);
  EXPECT_GE(*wake, at(60ms)); // 100 ms * [0.5, 1.5)
  EXPECT_LT(*wake, at(160ms));
  auto retry = e.take_batch(*wake);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->attempt, 2u);
  e.on_outcome(outcome(*retry, batch_status::retryable_failure), *wake);
  auto ev = e.take_events();
  ASSERT_EQ(ev.finished.size(), 1u);
  EXPECT_EQ(ev.finished[0].state, operation_state::failed);
  EXPECT_EQ(ev.finished[0].attempts, 2u);
  EXPECT_EQ(ev.finished[0].error,
            "gave up after 2 attempts: retryable_failure");
}

TEST(batch_engine, per_item_results_are_matched_by_position) {
  batch_engine e{engine_config()};
  e.enqueue(1, priority::normal, {}, 0, ops(3), at(0ms));
  auto b = e.take_batch(at(0ms));
  auto o = outcome(*b, batch_status::ok);
  o.items = {{1000, item_status::ok, ""},
             {1001, item_status::permanent_failure, "validation_error"},
             {1002, item_status::ok, ""}};
  e.on_outcome(o, at(5ms));
  auto ev = e.take_events();
  ASSERT_EQ(ev.finished.size(), 3u);
  EXPECT_EQ(ev.finished[1].state, operation_state::failed);
  EXPECT_EQ(ev.finished[1].error, "validation_error");
  EXPECT_EQ(ev.finished[2].state, operation_state::succeeded);
}

TEST(batch_engine, oversize_operations_fail_at_once) {
  batch_engine e{engine_config()};
  e.enqueue(1, priority::normal, {}, 0, ops(1, 101), at(0ms));
  auto ev = e.take_events();
  ASSERT_EQ(ev.finished.size(), 1u);
  EXPECT_EQ(ev.finished[0].error,
            "payload of 101 bytes exceeds the request cap of 100 bytes");
  EXPECT_EQ(e.queued(), 0u);
}

TEST(batch_engine, cancel_and_deadline_finish_queued_operations) {
  batch_engine e{engine_config(1)};
  e.enqueue(1, priority::normal, {}, 0, ops(2), at(0ms));
  e.enqueue(2, priority::normal, at(50ms), 0, ops(2), at(0ms));
  auto b = e.take_batch(at(0ms)); // job 1, op 0 in flight
  e.cancel(1, at(1ms));
  auto ev = e.take_events();
  ASSERT_EQ(ev.finished.size(), 1u);
  EXPECT_EQ(ev.finished[0].state, operation_state::cancelled);
  e.expire(at(50ms));
  ev = e.take_events();
  ASSERT_EQ(ev.finished.size(), 2u);
  EXPECT_EQ(ev.finished[0].error, "deadline exceeded");
  // The operation in flight still finishes by its outcome.
  e.on_outcome(outcome(*b, batch_status::ok), at(60ms));
  EXPECT_EQ(e.take_events().finished.size(), 1u);
}

TEST(batch_engine, an_outcome_counts_once) {
  batch_engine e{engine_config()};
  e.enqueue(1, priority::normal, {}, 0, ops(2), at(0ms));
  auto b = e.take_batch(at(0ms));
  e.on_outcome(outcome(*b, batch_status::ok), at(1ms));
  e.on_outcome(outcome(*b, batch_status::ok), at(2ms));
  EXPECT_EQ(e.take_events().finished.size(), 2u);
}

// Random workloads and outcomes: every operation finishes exactly once, no
// batch exceeds the caps, and nothing is sent after it succeeded.
RC_GTEST_PROP(batch_engine_property, every_operation_finishes_exactly_once,
              ()) {
  auto cfg = engine_config(*rc::gen::inRange<std::size_t>(1, 10),
                           *rc::gen::inRange<std::uint32_t>(1, 4));
  cfg.queue.max_bytes = *rc::gen::inRange<std::size_t>(5, 60);
  cfg.strategy = static_cast<strategy_kind>(*rc::gen::inRange(0, 4));
  batch_engine e{cfg};
  std::map<std::pair<std::uint64_t, std::uint64_t>, int> finished;
  std::set<std::pair<std::uint64_t, std::uint64_t>> succeeded;
  std::vector<batch> in_flight;
  std::uint64_t submitted = 0, job = 0;
  auto now = at(0ms);
  auto record = [&] {
    auto ev = e.take_events();
    for (const auto& ref : ev.sent)
      RC_ASSERT(!succeeded.count({ref.job_id, ref.index}));
    for (const auto& f : ev.finished) {
      RC_ASSERT(is_terminal(f.state));
      ++finished[{f.job_id, f.index}];
      if (f.state == operation_state::succeeded)
        succeeded.insert({f.job_id, f.index});
    }
  };
  auto steps = *rc::gen::inRange(1, 150);
  for (int i = 0; i < steps; ++i) {
    now += std::chrono::milliseconds{*rc::gen::inRange(0, 200)};
    switch (*rc::gen::inRange(0, 6)) {
      case 0: {
        auto n = *rc::gen::inRange<std::uint64_t>(1, 8);
        auto deadline
          = *rc::gen::arbitrary<bool>()
              ? now + std::chrono::milliseconds{*rc::gen::inRange(1, 2000)}
              : time_point{};
        e.enqueue(++job, static_cast<priority>(*rc::gen::inRange(0, 4)),
                  deadline, 0, ops(n, *rc::gen::inRange<std::size_t>(0, 70)),
                  now);
        submitted += n;
        break;
      }
      case 1:
      case 2:
        if (auto b = e.take_batch(now)) {
          RC_ASSERT(b->operations.size() <= cfg.queue.max_items);
          std::size_t bytes = 0;
          for (const auto& op : b->operations)
            bytes += op.payload.size();
          RC_ASSERT(b->operations.size() == 1 || bytes <= cfg.queue.max_bytes);
          in_flight.push_back(*b);
        }
        break;
      case 3:
        if (job > 0)
          e.cancel(*rc::gen::inRange<std::uint64_t>(1, job + 1), now);
        break;
      default:
        if (!in_flight.empty()) {
          auto k = *rc::gen::inRange<std::size_t>(0, in_flight.size());
          auto b = in_flight[k];
          in_flight.erase(in_flight.begin() + static_cast<long>(k));
          auto status = *rc::gen::element(
            batch_status::ok, batch_status::throttled,
            batch_status::retryable_failure, batch_status::permanent_failure);
          auto o = outcome(b, status, 10ms);
          if (status == batch_status::ok && *rc::gen::arbitrary<bool>())
            for (const auto& op : b.operations)
              o.items.push_back(
                {op.id, static_cast<item_status>(*rc::gen::inRange(0, 3)), ""});
          e.on_outcome(o, now);
        }
    }
    e.expire(now);
    record();
  }
  // Drain: everything in flight answers ok, everything queued gets sent.
  for (int guard = 0; guard < 10'000 && (e.queued() > 0 || !in_flight.empty());
       ++guard) {
    now += 1s;
    for (const auto& b : in_flight)
      e.on_outcome(outcome(b, batch_status::ok), now);
    in_flight.clear();
    while (auto b = e.take_batch(now))
      in_flight.push_back(*b);
    record();
  }
  RC_ASSERT(e.queued() == 0u);
  RC_ASSERT(finished.size() == submitted);
  for (const auto& [ref, n] : finished)
    RC_ASSERT(n == 1);
}

TEST(batch_engine, a_cancelled_job_never_goes_back_to_the_queue) {
  batch_engine e{engine_config(3)};
  e.enqueue(1, priority::normal, {}, 0, ops(2), at(0ms));
  auto b = e.take_batch(at(0ms));
  e.cancel(1, at(1ms));
  e.take_events();
  e.on_outcome(outcome(*b, batch_status::throttled, 1s), at(2ms));
  auto ev = e.take_events();
  EXPECT_TRUE(ev.requeued.empty());
  ASSERT_EQ(ev.finished.size(), 2u);
  EXPECT_EQ(ev.finished[0].state, operation_state::cancelled);
  EXPECT_EQ(e.queued(), 0u);
}

TEST(batch_engine, mismatched_item_results_are_never_guessed) {
  batch_engine e{engine_config(3, 2)};
  e.enqueue(1, priority::normal, {}, 0, ops(3), at(0ms));
  auto b = e.take_batch(at(0ms));
  auto o = outcome(*b, batch_status::ok);
  o.items = {{1000, item_status::ok, ""}}; // one result for three operations
  e.on_outcome(o, at(5ms));
  auto ev = e.take_events();
  EXPECT_TRUE(ev.finished.empty());
  EXPECT_EQ(ev.requeued.size(), 3u); // retried, not marked succeeded
}

namespace {

/// Sends one batch of up to the strategy's size at `now` and answers it ok
/// after `latency`; returns the number of operations it carried.
std::size_t round_trip(batch_engine& e, time_point now, duration latency) {
  auto b = e.take_batch(now);
  if (!b)
    return 0;
  auto o = outcome(*b, batch_status::ok);
  o.latency = latency;
  e.on_outcome(o, now + latency);
  return b->operations.size();
}

struct engine_ab {
  bool test_arm;
  double goodput;
};

batch_engine::config learning_config() {
  auto cfg = engine_config(100);
  cfg.strategy = strategy_kind::fixed; // sizes stay put: exact figures
  cfg.learn = true;
  cfg.sample_period = 1s;
  cfg.min_confidence = 0.6;
  cfg.sizing = {1, 100, 10, 500, 0.05, 0.2};
  cfg.queue = {100, 1'000'000, 10ms, 4};
  return cfg;
}

} // namespace

// A window closes at the first call after the sample period with at least
// four completed requests; its sample summarizes exactly that window.
TEST(batch_engine, learning_windows_summarize_what_happened) {
  batch_engine e{learning_config()};
  EXPECT_FALSE(e.take_sample(at(0s))); // opens the first window
  e.enqueue(1, priority::normal, {}, 0, ops(60), at(0s));
  std::size_t sent = 0;
  for (int i = 0; i < 5; ++i)
    sent += round_trip(e, at(i * 200ms), 50ms);
  EXPECT_EQ(sent, 50u);                   // five batches of the strategy's 10
  EXPECT_FALSE(e.take_sample(at(900ms))); // the period is not over
  auto s = e.take_sample(at(1s));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->op_type, "write");
  EXPECT_DOUBLE_EQ(s->features.batch_size, 10);
  EXPECT_DOUBLE_EQ(s->features.arrival_rate, 60); // 60 enqueued in 1 s
  EXPECT_DOUBLE_EQ(s->features.pending_operations, 10);
  EXPECT_DOUBLE_EQ(s->features.in_flight_batches, 0); // each sent alone
  EXPECT_DOUBLE_EQ(s->features.throttle_rate, 0);
  EXPECT_DOUBLE_EQ(s->features.seconds_since_throttle, 600); // none seen
  EXPECT_DOUBLE_EQ(s->throughput, 50);                       // 50 ok in 1 s
  EXPECT_DOUBLE_EQ(s->success_rate, 1);
  // Batch i left at 200i ms and was answered 50 ms later; its operations
  // were enqueued at 0: latencies 50, 250, ..., 850 ms, mean 450.
  EXPECT_NEAR(s->item_latency_ms, 450, 1e-9);
  EXPECT_FALSE(e.take_sample(at(1s))); // the next window just opened
  // Types that do not learn close no windows.
  batch_engine plain{engine_config()};
  EXPECT_FALSE(plain.take_sample(at(0s)));
  EXPECT_FALSE(plain.take_sample(at(10s)));
}

TEST(batch_engine, advice_below_the_confidence_threshold_is_ignored) {
  auto cfg = learning_config();
  cfg.strategy = strategy_kind::ml;
  batch_engine e{cfg};
  prediction p;
  p.batch_size = 42;
  p.confidence = 0.59;
  e.advise(p, at(0s));
  EXPECT_EQ(e.metrics(at(0s)).current_batch_size, 10u);
  p.confidence = 0.6;
  e.advise(p, at(0s));
  EXPECT_EQ(e.metrics(at(0s)).current_batch_size, 42u);
  // Advice expires three sample periods after it came, at the next outcome.
  e.enqueue(1, priority::normal, {}, 0, ops(100), at(0s));
  round_trip(e, at(4s), 10ms);
  EXPECT_NE(e.metrics(at(5s)).current_batch_size, 42u);
}

TEST(batch_engine, a_budget_makes_throughput_the_target) {
  batch_engine e{learning_config()};
  EXPECT_EQ(e.target(at(0s)).priority, target_priority::balanced);
  EXPECT_DOUBLE_EQ(e.target(at(0s)).max_response_time_ms, 500);
  e.enqueue(1, priority::normal, {}, 0, ops(10), at(0s));
  auto b = e.take_batch(at(0s));
  e.on_outcome(outcome(*b, batch_status::throttled, 1s), at(10ms));
  EXPECT_EQ(e.target(at(1s)).priority, target_priority::throughput);
  EXPECT_EQ(e.target(at(700s)).priority, target_priority::balanced);
  // A budget the configuration declares is in play from the start.
  auto cfg = learning_config();
  cfg.documented_budget = true;
  batch_engine documented{cfg};
  EXPECT_EQ(documented.target(at(0s)).priority, target_priority::throughput);
}

// An A/B test alternates the arms per window, reports each window's
// goodput for the arm that sized it, and restores the configured strategy
// when it ends.
TEST(batch_engine, ab_tests_alternate_the_arms_per_window) {
  auto cfg = engine_config(100);
  cfg.sizing = {1, 100, 10, 500, 0.05, 0.2};
  cfg.queue = {100, 1'000'000, 10ms, 4};
  cfg.strategy = strategy_kind::balanced;
  cfg.sample_period = 1s;
  batch_engine e{cfg};
  e.start_ab("ab-1", strategy_kind::fixed, strategy_kind::adaptive, at(3s));
  EXPECT_EQ(e.metrics(at(0s)).strategy, strategy_kind::fixed);
  EXPECT_FALSE(e.take_sample(at(0s))); // opens the window
  e.enqueue(1, priority::normal, {}, 0, ops(10'000), at(0s));
  std::vector<engine_ab> seen;
  auto t = at(0s);
  for (int w = 0; w < 4; ++w) {
    for (int i = 0; i < 5; ++i, t += 200ms)
      round_trip(e, t, 20ms);
    // Once the test is over, a type that does not learn closes no windows.
    EXPECT_EQ(e.take_sample(t).has_value(), w < 3) << "window " << w;
    auto ab = e.take_ab_sample();
    if (w < 3) {
      ASSERT_TRUE(ab);
      EXPECT_EQ(ab->test_id, "ab-1");
      EXPECT_EQ(ab->test_arm, w % 2 == 1);
      EXPECT_GT(ab->goodput, 0);
      seen.push_back({ab->test_arm, ab->goodput});
    } else {
      EXPECT_FALSE(ab); // the test ended at 3 s
    }
  }
  // static keeps 10 a batch; adaptive grows into the backlog.
  EXPECT_DOUBLE_EQ(seen[0].goodput, 50);
  EXPECT_GT(seen[1].goodput, 50);
  EXPECT_EQ(e.metrics(t).strategy, strategy_kind::balanced);
}

TEST(batch_engine, which_items_succeeded_is_decided_in_one_place) {
  // The engine and `run`'s journal both ask item_succeeded: an operation
  // the engine retries is never recorded as confirmed.
  batch_outcome ok;
  EXPECT_TRUE(item_succeeded(ok, 0, 3));
  EXPECT_FALSE(item_succeeded(ok, 3, 3));
  ok.items = {{1, item_status::ok, {}},
              {2, item_status::retryable_failure, {}},
              {3, item_status::permanent_failure, {}}};
  EXPECT_TRUE(item_succeeded(ok, 0, 3));
  EXPECT_FALSE(item_succeeded(ok, 1, 3));
  EXPECT_FALSE(item_succeeded(ok, 2, 3));
  EXPECT_FALSE(item_succeeded(ok, 0, 4)); // results for other operations
  auto throttled = ok;
  throttled.status = batch_status::throttled;
  EXPECT_FALSE(item_succeeded(throttled, 0, 3));
}
