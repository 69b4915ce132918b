#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/pacer.hpp"

using namespace batching;
using namespace std::chrono_literals;

namespace {

time_point at(duration d) { return time_point{} + d; }

pacer::config paced(double rate, std::uint32_t in_flight = 4) {
  pacer::config cfg;
  cfg.initial_rate = rate;
  cfg.max_in_flight = in_flight;
  return cfg;
}

} // namespace

TEST(pacer, spaces_requests_by_the_rate) {
  pacer p{paced(4)};
  EXPECT_EQ(p.earliest(at(0ms)), at(0ms));
  p.on_sent(at(0ms));
  EXPECT_EQ(p.earliest(at(0ms)), at(250ms));
  p.on_sent(at(250ms));
  EXPECT_EQ(p.earliest(at(300ms)), at(500ms));
}

TEST(pacer, caps_requests_in_flight) {
  pacer p{paced(0, 2)};
  p.on_sent(at(0ms));
  p.on_sent(at(0ms));
  EXPECT_EQ(p.earliest(at(0ms)), std::nullopt);
  p.on_completed(at(5ms), batch_status::ok, {});
  EXPECT_EQ(p.earliest(at(5ms)), at(5ms));
}

TEST(pacer, honours_retry_after_exactly_and_slows_down) {
  pacer p{paced(10)};
  p.on_sent(at(0ms));
  p.on_completed(at(50ms), batch_status::throttled, 2s);
  EXPECT_EQ(p.earliest(at(100ms)), at(2050ms));
  EXPECT_EQ(p.blocked_until(), at(2050ms));
  EXPECT_DOUBLE_EQ(*p.ceiling(), 10.0);
  EXPECT_DOUBLE_EQ(p.rate(), 8.5);
}

TEST(pacer, an_unpaced_start_learns_a_rate_from_the_first_429) {
  pacer p{paced(0, 100)};
  auto now = at(0ms);
  for (int i = 0; i < 50; ++i) { // 50 requests in 2 s: 25/s measured
    p.on_sent(now);
    p.on_completed(now, batch_status::ok, {});
    now += 40ms;
  }
  p.on_sent(now);
  p.on_completed(now, batch_status::throttled, 1s);
  ASSERT_TRUE(p.ceiling().has_value());
  EXPECT_NEAR(*p.ceiling(), 25.0, 1.0);
  EXPECT_NEAR(p.rate(), 0.85 * 25.0, 1.0);
}

TEST(pacer, slow_start_doubles_while_demand_waits) {
  pacer p{paced(2, 100)};
  auto now = at(0ms);
  // The first request finds a free slot; the next ten wait for theirs
  // (an epoch of 10 successes), which doubles the rate.
  for (int i = 0; i < 11; ++i) {
    now = *p.earliest(now); // demand always waiting for the slot
    p.on_sent(now);
    p.on_completed(now, batch_status::ok, {});
  }
  EXPECT_DOUBLE_EQ(p.rate(), 4.0);
}

TEST(pacer, without_demand_the_rate_does_not_grow) {
  pacer p{paced(2, 100)};
  auto now = at(0ms);
  for (int i = 0; i < 30; ++i) {
    now += 10s; // far apart: never waiting for a slot
    p.earliest(now);
    p.on_sent(now);
    p.on_completed(now, batch_status::ok, {});
  }
  EXPECT_DOUBLE_EQ(p.rate(), 2.0);
}

// Drives a pacer the way the gate does, with random outcomes; checks that
// no request leaves before Retry-After expires or closer than 1/rate to the
// previous one, and that in-flight stays within the cap.
RC_GTEST_PROP(pacer_property, never_overruns_its_budget_or_retry_after, ()) {
  auto cap = *rc::gen::inRange<std::uint32_t>(1, 8);
  pacer p{paced(*rc::gen::inRange(0, 50) * 1.0, cap)};
  auto now = at(0ms);
  std::vector<time_point> in_flight;
  std::optional<time_point> last_send;
  auto steps = *rc::gen::inRange(1, 300);
  for (int i = 0; i < steps; ++i) {
    if (!in_flight.empty()
        && (*rc::gen::arbitrary<bool>() || !p.earliest(now))) {
      // Complete the oldest request.
      now = std::max(now, in_flight.front())
            + duration{*rc::gen::inRange<std::int64_t>(0, 500'000'000)};
      in_flight.erase(in_flight.begin());
      auto status = *rc::gen::element(batch_status::ok, batch_status::ok,
                                      batch_status::throttled,
                                      batch_status::retryable_failure);
      auto retry_after = std::chrono::seconds{*rc::gen::inRange(0, 5)};
      p.on_completed(now, status, retry_after);
      continue;
    }
    auto when = p.earliest(now);
    RC_ASSERT(when.has_value());
    RC_ASSERT(*when >= now);
    RC_ASSERT(*when >= p.blocked_until());
    if (last_send && p.rate() > 0)
      RC_ASSERT(*when - *last_send
                >= from_seconds(1.0 / p.rate()) - duration{1});
    now = *when;
    p.on_sent(now);
    last_send = now;
    in_flight.push_back(now);
    RC_ASSERT(p.in_flight() <= cap);
  }
}
