#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/circuit_breaker.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

circuit_breaker_config cfg(std::uint32_t threshold = 3, double timeout = 10,
                           std::uint32_t recovery = 2) {
  return {threshold, timeout, recovery, timeout}; // a fixed open time
}

} // namespace

TEST(circuit_breaker, opens_after_consecutive_failures_only) {
  circuit_breaker b{cfg()};
  EXPECT_FALSE(b.on_result(batch_status::retryable_failure, at(0s)));
  EXPECT_FALSE(b.on_result(batch_status::retryable_failure, at(1s)));
  EXPECT_FALSE(b.on_result(batch_status::ok, at(2s))); // resets
  EXPECT_FALSE(b.on_result(batch_status::retryable_failure, at(3s)));
  EXPECT_FALSE(b.on_result(batch_status::retryable_failure, at(4s)));
  auto t = b.on_result(batch_status::retryable_failure, at(5s));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->from, breaker_state::closed);
  EXPECT_EQ(t->to, breaker_state::open);
  EXPECT_EQ(t->reason, "3 consecutive failures");
  EXPECT_FALSE(b.allows());
}

TEST(circuit_breaker, throttling_never_opens_it) {
  circuit_breaker b{cfg(1)};
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(b.on_result(batch_status::throttled, at(duration{i})));
  EXPECT_EQ(b.state(), breaker_state::closed);
}

TEST(circuit_breaker, half_open_trials_close_or_reopen_it) {
  circuit_breaker b{cfg(1, 10, 2)};
  b.on_result(batch_status::retryable_failure, at(0s));
  EXPECT_EQ(b.half_open_at(), at(10s));
  EXPECT_FALSE(b.advance(at(9s)));
  auto t = b.advance(at(10s));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, breaker_state::half_open);
  EXPECT_TRUE(b.allows());
  b.on_sent();
  EXPECT_FALSE(b.allows()); // one trial at a time
  EXPECT_FALSE(b.on_result(batch_status::ok, at(11s)));
  b.on_sent();
  t = b.on_result(batch_status::ok, at(12s));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, breaker_state::closed);
  // And a failing trial reopens it.
  b.on_result(batch_status::retryable_failure, at(20s));
  b.advance(at(30s));
  b.on_sent();
  t = b.on_result(batch_status::retryable_failure, at(31s));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->from, breaker_state::half_open);
  EXPECT_EQ(t->to, breaker_state::open);
  EXPECT_EQ(b.half_open_at(), at(41s));
}

RC_GTEST_PROP(circuit_breaker_property, only_legal_transitions, ()) {
  circuit_breaker b{cfg(*rc::gen::inRange<std::uint32_t>(1, 5),
                        *rc::gen::inRange(1, 20) * 1.0,
                        *rc::gen::inRange<std::uint32_t>(1, 4))};
  auto now = at(0s);
  auto legal = [](breaker_state from, breaker_state to) {
    using s = breaker_state;
    return (from == s::closed && to == s::open)
           || (from == s::open && to == s::half_open)
           || (from == s::half_open && to == s::open)
           || (from == s::half_open && to == s::closed);
  };
  auto steps = *rc::gen::inRange(1, 300);
  for (int i = 0; i < steps; ++i) {
    now += std::chrono::milliseconds{*rc::gen::inRange(0, 5000)};
    auto state = b.state();
    if (auto t = b.advance(now)) {
      RC_ASSERT(t->from == state);
      RC_ASSERT(legal(t->from, t->to));
      state = t->to;
    }
    if (state == breaker_state::open)
      RC_ASSERT(!b.allows());
    if (!b.allows())
      continue;
    b.on_sent();
    auto status = *rc::gen::element(batch_status::ok, batch_status::throttled,
                                    batch_status::retryable_failure,
                                    batch_status::permanent_failure);
    if (auto t = b.on_result(status, now)) {
      RC_ASSERT(t->from == state);
      RC_ASSERT(legal(t->from, t->to));
      RC_ASSERT(status != batch_status::throttled);
    }
  }
}

TEST(circuit_breaker, the_open_time_doubles_with_each_failed_trial) {
  circuit_breaker b{{1, 20, 1, 5}};
  b.on_sent();
  b.on_result(batch_status::retryable_failure, at(0s));
  EXPECT_EQ(b.half_open_at(), at(5s)); // the initial open time
  b.advance(at(5s));
  b.on_sent();
  b.on_result(batch_status::retryable_failure, at(6s));
  EXPECT_EQ(b.half_open_at(), at(16s)); // doubled
  b.advance(at(16s));
  b.on_sent();
  b.on_result(batch_status::retryable_failure, at(16s));
  EXPECT_EQ(b.half_open_at(), at(36s)); // capped at timeout_seconds
  b.advance(at(36s));
  b.on_sent();
  b.on_result(batch_status::ok, at(37s));
  EXPECT_EQ(b.state(), breaker_state::closed);
  b.on_sent();
  b.on_result(batch_status::retryable_failure, at(40s));
  EXPECT_EQ(b.half_open_at(), at(45s)); // closing resets it
}
