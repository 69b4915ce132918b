#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/restart_policy.hpp"

namespace batching {
namespace {

using namespace std::chrono_literals;

TEST(restart_policy, one_crash_restarts_at_once_a_loop_backs_off) {
  restart_policy p{{100ms, 1s, 60s}};
  time_point t{};
  EXPECT_EQ(p.on_death(t), 0ms);
  // It dies again right after: the streak grows, the delays double.
  EXPECT_EQ(p.on_death(t + 10ms), 100ms);
  EXPECT_EQ(p.on_death(t + 200ms), 200ms);
  EXPECT_EQ(p.on_death(t + 500ms), 400ms);
  EXPECT_EQ(p.on_death(t + 1s), 800ms);
  EXPECT_EQ(p.on_death(t + 2s), 1s); // capped
  EXPECT_EQ(p.on_death(t + 3s), 1s);
  EXPECT_EQ(p.restarts(), 7u);
  // Up for a calm minute since its last restart: a fresh streak.
  EXPECT_EQ(p.on_death(t + 3s + 1s + 60s), 0ms);
  EXPECT_EQ(p.restarts(), 8u);
}

TEST(restart_policy, the_calm_period_runs_from_the_delayed_restart) {
  restart_policy p{{10s, 40s, 60s}};
  time_point t{};
  p.on_death(t);
  EXPECT_EQ(p.on_death(t + 1s), 10s); // restarts at 11 s
  // 59 s after that restart: still the same streak.
  EXPECT_EQ(p.on_death(t + 70s), 20s);
}

RC_GTEST_PROP(restart_policy, delays_stay_within_bounds, ()) {
  auto first = std::chrono::milliseconds{*rc::gen::inRange(1, 5000)};
  auto max = first * *rc::gen::inRange(1, 100);
  restart_policy p{{first, max, std::chrono::seconds{60}}};
  time_point t{};
  auto deaths = *rc::gen::inRange(1, 200);
  for (int i = 0; i < deaths; ++i) {
    t += std::chrono::milliseconds{*rc::gen::inRange(0, 120'000)};
    auto d = p.on_death(t);
    RC_ASSERT(d >= duration{0});
    RC_ASSERT(d <= max);
  }
  RC_ASSERT(p.restarts() == static_cast<std::uint64_t>(deaths));
}

} // namespace
} // namespace batching
