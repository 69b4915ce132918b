#include <gtest/gtest.h>

#include "runtime/policy/rejection_cap.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

TEST(rejection_cap, nothing_accepted_yet_holds_nothing) {
  // With no rate shown, the cap has nothing to hold the probes to (the
  // backoff alone paces them).
  rejection_cap cap;
  cap.on_answer(at(0ms), true);
  cap.on_answer(at(100ms), true);
  EXPECT_EQ(cap.next_probe(at(200ms), 0), at(200ms));
}

TEST(rejection_cap, one_accepted_allows_one_refusal_per_ten_seconds) {
  // One request through, then two refused: a rate of one per 10 s at most,
  // so no probe until both refusals are 10 s old.
  rejection_cap cap;
  cap.on_answer(at(0ms), false);
  cap.on_answer(at(50ms), true);
  cap.on_answer(at(1200ms), true);
  EXPECT_EQ(cap.next_probe(at(1300ms), 0), at(11200ms));
  EXPECT_EQ(cap.next_probe(at(11200ms), 0), at(11200ms));
}

TEST(rejection_cap, a_fast_limiter_is_not_held) {
  // 50 accepted in a second (5/s spread over 10 s at the least): five
  // refusals are well within the 50 a span allows.
  rejection_cap cap;
  for (int i = 0; i < 50; ++i)
    cap.on_answer(at(std::chrono::milliseconds{20 * i}), false);
  for (int i = 0; i < 5; ++i)
    cap.on_answer(at(std::chrono::milliseconds{1000 + 10 * i}), true);
  EXPECT_EQ(cap.next_probe(at(1100ms), 0), at(1100ms));
}

TEST(rejection_cap, requests_in_flight_may_still_be_accepted) {
  // Behind a long latency most answers are still out: counted as possibly
  // accepted, they raise what a span allows (2 + 8 = 10 over 10 s: ten
  // refusals), where the two answered alone allow two: the probe waits
  // until only the newest refusal is within the span.
  rejection_cap cap;
  cap.on_answer(at(0ms), false);
  cap.on_answer(at(10ms), false);
  for (int i = 0; i < 4; ++i)
    cap.on_answer(at(std::chrono::milliseconds{20 + i}), true);
  EXPECT_EQ(cap.next_probe(at(2000ms), 8), at(2000ms));
  EXPECT_EQ(cap.next_probe(at(2000ms), 0), at(10022ms));
}

TEST(rejection_cap, never_holds_longer_than_the_span) {
  rejection_cap cap;
  cap.on_answer(at(0ms), false);
  for (int i = 0; i < 30; ++i)
    cap.on_answer(at(std::chrono::milliseconds{100 * i}), true);
  auto now = at(3000ms);
  auto next = cap.next_probe(now, 0);
  EXPECT_GT(next, now);
  EXPECT_LE(next, now + 10s);
  // Answers out of send order are kept in order: the newest refusal,
  // answered first, still sets the wait.
  rejection_cap late;
  late.on_answer(at(0ms), false);
  late.on_answer(at(900ms), true);
  late.on_answer(at(300ms), true);
  EXPECT_EQ(late.next_probe(at(1000ms), 0), at(10900ms));
}
