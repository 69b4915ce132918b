// The learning window shared by the batch engine and the limiter zoo, and
// the training schedule shared by the optimizer and the zoo. The engine's
// own tests (batch_engine_test.cpp) cover the windows item by item; these
// cover what the zoo adds: items counted in chunks, and the schedule.

#include <gtest/gtest.h>

#include "runtime/policy/sample_window.hpp"
#include "runtime/policy/training_set.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

sample_window one_second_window() {
  return sample_window{{"write", 1s, 0.6, target_priority::latency, false}};
}

} // namespace

// Items succeeding in chunks weigh by their number: the mean latency is
// per item, not per chunk.
TEST(sample_window, chunks_of_items_weigh_by_their_number) {
  auto w = one_second_window();
  w.enqueued(1000); // before the first window: never counted
  EXPECT_FALSE(w.close(at(0s), {}));
  w.enqueued(40);
  for (int i = 0; i < 4; ++i) {
    w.sent(10, i);
    w.answered(false, false, at(100ms * (i + 1)));
  }
  w.succeeded(30, 100);                 // 30 items at 100 ms
  w.succeeded(10, 500);                 // 10 items at 500 ms
  EXPECT_FALSE(w.close(at(999ms), {})); // the period is not over
  auto s = w.close(at(2s), {5, 250, 0, 0});
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->features.arrival_rate, 20); // 40 in 2 s
  EXPECT_DOUBLE_EQ(s->features.batch_size, 10);
  EXPECT_DOUBLE_EQ(s->features.in_flight_batches, 1.5); // 0, 1, 2, 3
  EXPECT_DOUBLE_EQ(s->features.pending_operations, 5);
  EXPECT_DOUBLE_EQ(s->throughput, 20);       // 40 items in 2 s
  EXPECT_DOUBLE_EQ(s->item_latency_ms, 200); // (30*100 + 10*500) / 40
  // The next window starts from the latency the owner reported.
  for (int i = 0; i < 4; ++i) {
    w.sent(10, 0);
    w.answered(i == 0, i == 1, at(2s + 100ms * i));
  }
  w.succeeded(1, 10);
  w.failed(3);
  auto t = w.close(at(3s), {});
  ASSERT_TRUE(t);
  EXPECT_DOUBLE_EQ(t->features.recent_latency_ms, 250);
  EXPECT_DOUBLE_EQ(t->features.throttle_rate, 0.25);
  EXPECT_DOUBLE_EQ(t->features.error_rate, 0.25);
  EXPECT_DOUBLE_EQ(t->features.seconds_since_throttle, 1);
  EXPECT_DOUBLE_EQ(t->success_rate, 0.25);
}

// A 429 puts a budget in play for 600 s: predictions then aim for
// throughput whatever the configured priority.
TEST(sample_window, a_429_makes_throughput_the_target_for_ten_minutes) {
  auto w = one_second_window();
  EXPECT_EQ(w.target(at(0s), 800).priority, target_priority::latency);
  w.answered(true, false, at(10s));
  EXPECT_EQ(w.target(at(11s), 800).priority, target_priority::throughput);
  EXPECT_DOUBLE_EQ(w.target(at(11s), 800).max_response_time_ms, 800);
  EXPECT_DOUBLE_EQ(w.target(at(11s), 800).min_confidence, 0.6);
  EXPECT_EQ(w.target(at(610s), 800).priority, target_priority::latency);
}

// Confident advice holds for three periods, then lapses once; advice
// below the threshold holds nothing.
TEST(sample_window, advice_holds_three_periods_then_lapses_once) {
  auto w = one_second_window();
  prediction p;
  p.batch_size = 40;
  p.confidence = 0.7;
  EXPECT_EQ(w.accept(p, at(0s)), 40u);
  EXPECT_FALSE(w.advice_expired(at(3s)));
  EXPECT_TRUE(w.advice_expired(at(3s) + 1ms));
  EXPECT_FALSE(w.advice_expired(at(4s))); // once
  p.confidence = 0.5;
  EXPECT_FALSE(w.accept(p, at(5s)));
  EXPECT_FALSE(w.advice_expired(at(100s)));
  p.confidence = 0.9;
  p.batch_size = 0; // no size: no advice
  EXPECT_FALSE(w.accept(p, at(6s)));
}

// Trainings begin at min_samples, then after max(retrain_every, held/10)
// new samples; the oldest beyond max_samples are dropped.
TEST(training_set, trains_on_a_growing_schedule) {
  training_set set{100, 10, 20};
  std::vector<std::size_t> trained_at;
  for (std::size_t i = 1; i <= 300; ++i) {
    training_sample s;
    s.throughput = static_cast<double>(i);
    set.add(s);
    if (set.due()) {
      trained_at.push_back(i);
      auto batch = set.begin();
      EXPECT_EQ(batch.size(), std::min<std::size_t>(i, 100));
      EXPECT_DOUBLE_EQ(batch.back().throughput, static_cast<double>(i));
    }
  }
  ASSERT_GE(trained_at.size(), 3u);
  EXPECT_EQ(trained_at[0], 20u); // min_samples (due: 20 >= max(10, 2))
  EXPECT_EQ(trained_at[1], 30u); // 10 new
  EXPECT_EQ(trained_at[2], 40u);
  EXPECT_EQ(set.size(), 100u);
  EXPECT_FALSE(set.due()); // nothing new since the last
  training_set few{100, 10, 20};
  for (int i = 0; i < 19; ++i)
    few.add({});
  EXPECT_FALSE(few.due());
  EXPECT_FALSE(few.enough());
}
