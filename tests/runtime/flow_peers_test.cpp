// The peer flow controllers: each reacts to its signals as anchors.md
// restates, and every controller keeps the shared invariants (in-flight
// limit, Retry-After).

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/flow_peers.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

flow_settings settings(flow_kind kind) {
  flow_settings s;
  s.kind = kind;
  s.max_in_flight = 4;
  s.initial_rate = 0;
  return s;
}

/// One request sent and completed at `now` with `latency`.
void round_trip(flow_controller& f, time_point now, batch_status status,
                duration latency = 100ms) {
  f.on_sent(now);
  f.on_completed(now + latency, status, 1s, latency);
}

} // namespace

TEST(flow_peers, fixed_spaces_by_its_rate_and_caps_in_flight) {
  fixed_flow f{2, 4};
  f.on_sent(at(0ms));
  EXPECT_EQ(f.earliest(at(0ms)), at(250ms));
  f.on_sent(at(250ms));
  EXPECT_EQ(f.earliest(at(300ms)), std::nullopt);
}

TEST(flow_peers, aimd_grows_by_one_and_backs_off_by_a_tenth) {
  netflix_aimd f;
  EXPECT_EQ(f.allowed_in_flight(), 20u);
  for (int i = 0; i < 10; ++i) // ten requests in flight: 10 * 2 >= 20
    f.on_sent(at(0ms));
  f.on_completed(at(10ms), batch_status::ok, {}, 10ms);
  EXPECT_EQ(f.allowed_in_flight(), 21u);
  f.on_completed(at(20ms), batch_status::throttled, 1s, 10ms);
  EXPECT_EQ(f.allowed_in_flight(), 18u); // floor(21 * 0.9)
  EXPECT_EQ(f.blocked_until(), at(1020ms));
}

TEST(flow_peers, gradient2_ignores_drops_and_shrinks_on_latency) {
  netflix_gradient2 f;
  auto now = at(0ms);
  // Windows at 100 ms with the limit in use, every other sample a drop:
  // the limit stays at 20 or above (drops add no rtt and shrink nothing).
  for (int w = 0; w < 12; ++w)
    for (int i = 0; i < 10; ++i) {
      for (int k = 0; k < 15; ++k)
        f.on_sent(now);
      now += 110ms;
      f.on_completed(now, i % 2 ? batch_status::throttled : batch_status::ok,
                     0s, i % 2 ? 1ms : 100ms);
      for (int k = 0; k < 14; ++k)
        f.on_abandoned();
    }
  auto steady = f.limit();
  EXPECT_GE(steady, 20.0); // drops alone never shrink it
  // Latency triples for two windows: the gradient (clamped to 0.5) shrinks
  // the limit.
  for (int i = 0; i < 25; ++i) {
    for (int k = 0; k < 15; ++k)
      f.on_sent(now);
    now += 110ms;
    f.on_completed(now, batch_status::ok, 0s, 300ms);
    for (int k = 0; k < 14; ++k)
      f.on_abandoned();
  }
  EXPECT_LT(f.limit(), steady);
}

TEST(flow_peers, vegas_jumps_while_no_queue_builds) {
  netflix_vegas f{1};
  for (int k = 0; k < 12; ++k)
    f.on_sent(at(0ms));
  f.on_completed(at(100ms), batch_status::ok, 0s, 100ms); // rtt_noload
  f.on_completed(at(200ms), batch_status::ok, 0s, 100ms); // queue 0
  EXPECT_EQ(f.allowed_in_flight(), 26u);                  // 20 + 6
}

TEST(flow_peers, envoy_pins_three_until_it_knows_min_rtt) {
  envoy_gradient f{1};
  EXPECT_EQ(f.allowed_in_flight(), 3u);
  auto now = at(0ms);
  for (int i = 0; i < 50; ++i) {
    now += 100ms;
    round_trip(f, now, batch_status::ok, 100ms);
  }
  // minRTT known: the limit follows g L + sqrt(g L) with g = 1.25 at most.
  now += 200ms;
  round_trip(f, now, batch_status::ok, 100ms);
  now += 200ms;
  round_trip(f, now, batch_status::ok, 100ms);
  EXPECT_GT(f.allowed_in_flight(), 3u);
}

TEST(flow_peers, aws_enables_its_bucket_at_the_first_throttle) {
  aws_adaptive f{4};
  EXPECT_EQ(f.rate(), 0.0);
  auto now = at(0ms);
  for (int i = 0; i < 40; ++i) { // ~10 responses/s measured
    now += 100ms;
    round_trip(f, now, batch_status::ok, 0ms);
  }
  now += 100ms;
  round_trip(f, now, batch_status::throttled, 0ms);
  EXPECT_GT(f.rate(), 0.0);
  EXPECT_LT(f.rate(), 10.0); // 0.7 x the measured rate
}

TEST(flow_peers, arc_adds_one_per_interval_at_the_limit) {
  vector_arc f;
  auto now = at(0ms);
  for (int i = 0; i < 5; ++i) {
    round_trip(f, now, batch_status::ok, 100ms);
    now += 100ms;
  }
  EXPECT_GT(f.allowed_in_flight(), 1u);
  round_trip(f, now, batch_status::throttled, 100ms);
  now += 200ms;
  round_trip(f, now, batch_status::ok, 100ms);
  EXPECT_LT(f.limit(), 5.0);
}

TEST(flow_peers, sre_throttle_rejects_locally_once_accepts_fall_behind) {
  google_sre_throttle f{4, 1};
  auto now = at(0ms);
  for (int i = 0; i < 100; ++i) { // every request throttled
    now += 1s;
    round_trip(f, now, batch_status::throttled, 10ms);
  }
  now += 2s;
  auto deferred = 0;
  for (int i = 0; i < 20; ++i)
    if (*f.earliest(now + std::chrono::seconds{i})
        > now + std::chrono::seconds{i})
      ++deferred;
  EXPECT_GT(deferred, 10); // p close to 1
}

// Every controller, driven with random outcomes: never more in flight than
// it allows, never a send before Retry-After ends.
RC_GTEST_PROP(flow_property, every_controller_keeps_its_limits, ()) {
  auto kind = static_cast<flow_kind>(*rc::gen::inRange(0, 9));
  auto s = settings(kind);
  s.initial_rate = *rc::gen::inRange(0, 20);
  s.seed = *rc::gen::arbitrary<std::uint64_t>();
  auto f = make_flow_controller(s);
  RC_ASSERT(f->kind() == kind);
  auto now = at(0ms);
  std::vector<time_point> in_flight;
  for (int i = 0, n = *rc::gen::inRange(1, 400); i < n; ++i) {
    auto when = f->earliest(now);
    if (!in_flight.empty() && (!when || *rc::gen::arbitrary<bool>())) {
      now += std::chrono::milliseconds{*rc::gen::inRange(0, 800)};
      in_flight.erase(in_flight.begin());
      auto status = *rc::gen::element(batch_status::ok, batch_status::ok,
                                      batch_status::throttled,
                                      batch_status::retryable_failure);
      f->on_completed(now, status,
                      std::chrono::seconds{*rc::gen::inRange(0, 3)},
                      std::chrono::milliseconds{*rc::gen::inRange(1, 900)});
      continue;
    }
    RC_ASSERT(when.has_value());
    RC_ASSERT(*when >= now);
    RC_ASSERT(*when >= f->blocked_until());
    now = *when;
    f->on_sent(now);
    in_flight.push_back(now);
    RC_ASSERT(f->in_flight() <= f->allowed_in_flight() + 1);
    RC_ASSERT(f->in_flight() == in_flight.size());
  }
}

TEST(flow_peers, vector_arc_averages_only_successful_rtts) {
  // Fast 429s (1 ms) must not pull the RTT mean down: afterwards, ok
  // answers at the usual 100 ms with the limit reached grow the limit again
  // instead of reading as a latency spike.
  vector_arc f;
  auto now = at(0ms);
  auto interval = [&](batch_status status, duration rtt) {
    auto n = f.allowed_in_flight();
    for (std::uint32_t k = 0; k < n; ++k)
      f.on_sent(now);
    now += 101ms;
    for (std::uint32_t k = 0; k < n; ++k)
      f.on_completed(now, status, 0s, rtt);
  };
  for (int i = 0; i < 20; ++i)
    interval(batch_status::ok, 100ms);
  for (int i = 0; i < 3; ++i)
    interval(batch_status::throttled, 1ms);
  auto after_pressure = f.limit();
  // (The first interval still holds the last 429s: one more decrease.)
  for (int i = 0; i < 6; ++i)
    interval(batch_status::ok, 100ms);
  // A mean pulled towards 1 ms would stay below 100 ms: no growth at all.
  EXPECT_GT(f.limit(), after_pressure);
}

TEST(flow_peers, sre_counts_a_deferred_request_once) {
  // Ten rejections make p = 10/11; a request drawn again every 100 ms for
  // a minute is still one request, so a few accepts bring p down (counting
  // each redraw would keep p near 1 for two minutes).
  google_sre_throttle f{4, 7};
  auto now = at(0ms);
  for (int i = 0; i < 10; ++i) {
    f.on_sent(now);
    f.on_completed(now, batch_status::throttled, 0s, 10ms);
  }
  for (int i = 0; i < 600; ++i) {
    auto t = f.earliest(now);
    ASSERT_TRUE(t.has_value());
    now = std::max(now, *t) + 1ms; // not sent yet: drawn again
  }
  int first_draw_grants = 0;
  for (int i = 0; i < 40; ++i) {
    now += 200ms;
    auto t = f.earliest(now);
    if (t && *t == now)
      ++first_draw_grants;
    f.on_sent(now);
    f.on_completed(now, batch_status::ok, 0s, 10ms);
  }
  EXPECT_GE(first_draw_grants, 25);
}
