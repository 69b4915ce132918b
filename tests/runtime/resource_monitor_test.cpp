#include <gtest/gtest.h>

#include "runtime/policy/resource_monitor.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

resource_snapshot snap(duration t, double cpu, double mem = 10) {
  resource_snapshot s;
  s.at = at(t);
  s.cpu_percent = cpu;
  s.memory_percent = mem;
  return s;
}

resource_monitor monitor() {
  resource_thresholds_config th;
  th.cpu = {70, 85, 10};
  th.memory = {75, 90, 10};
  scaling_config sc;
  sc.scale_up = {75, 30};
  sc.scale_down = {30, 60};
  sampling_config sa{1, 60};
  return resource_monitor{th, sc, sa};
}

} // namespace

TEST(resource_monitor, raises_alerts_only_after_the_sustained_duration) {
  auto m = monitor();
  for (int s = 0; s < 10; ++s)
    EXPECT_TRUE(m.observe(snap(std::chrono::seconds{s}, 90)).empty()) << s;
  auto alerts = m.observe(snap(10s, 90));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].level, alert_level::critical);
  EXPECT_EQ(alerts[0].resource, resource_kind::cpu);
  EXPECT_EQ(alerts[0].threshold, 85);
  EXPECT_EQ(alerts[0].message, "cpu at 90.0% >= critical 85% for 10 s");
  EXPECT_EQ(m.pressure(), 1.0);
  EXPECT_EQ(m.active_alerts().size(), 1u);
  // A short dip does not clear it; a sustained one does.
  m.observe(snap(11s, 20));
  EXPECT_TRUE(m.observe(snap(12s, 90)).empty());
  for (int s = 13; s < 23; ++s)
    EXPECT_TRUE(m.observe(snap(std::chrono::seconds{s}, 20)).empty()) << s;
  alerts = m.observe(snap(23s, 20));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].level, alert_level::cleared);
  EXPECT_EQ(m.pressure(), 0.0);
}

TEST(resource_monitor, computes_trends_from_the_slope) {
  auto m = monitor();
  for (int s = 0; s < 30; ++s)
    m.observe(snap(std::chrono::seconds{s}, 20, 10 + s)); // +1 point/s
  EXPECT_EQ(m.trend_of(resource_kind::memory), trend::increasing);
  EXPECT_EQ(m.trend_of(resource_kind::cpu), trend::stable);
  auto recs = m.recommendations();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs[0].type, "memory_leak_check");
}

TEST(resource_monitor, trends_are_asked_over_any_window_up_to_an_hour) {
  // Memory flat at 40% for 50 minutes, then climbing 1 point a minute for
  // 10: rising over the last 10 minutes, not over the hour (more than +5
  // points fitted over the window is the threshold either way).
  auto m = monitor();
  for (int s = 0; s <= 3600; s += 10) {
    double mem = s < 3000 ? 40 : 40 + (s - 3000) / 60.0;
    m.observe(snap(std::chrono::seconds{s}, 20, mem));
  }
  EXPECT_EQ(m.trends(10min).memory, trend::increasing);
  EXPECT_NEAR(m.change_of(resource_kind::memory, 10min), 10.0, 0.5);
  // Over the hour the late climb fits as a small rise: stable.
  EXPECT_EQ(m.trends(60min).memory, trend::stable);
  EXPECT_GT(m.change_of(resource_kind::memory, 60min), 0.0);
  EXPECT_LT(m.change_of(resource_kind::memory, 60min), 5.0);
  EXPECT_EQ(m.trends(60min).cpu, trend::stable);
  // The configured window (60 s) sees one point of change: stable.
  EXPECT_EQ(m.trends().memory, trend::stable);
  // Longer than an hour: an hour; nothing before the first reading.
  EXPECT_EQ(m.change_of(resource_kind::memory, 5h),
            m.change_of(resource_kind::memory, 60min));
  resource_monitor empty = monitor();
  EXPECT_EQ(empty.change_of(resource_kind::cpu, 10min), 0.0);
}

TEST(resource_monitor, network_is_a_share_of_the_link) {
  auto m = monitor();
  resource_snapshot s;
  s.net_rx_bytes_per_s = 50e6;   // 400 Mbit/s
  s.net_tx_bytes_per_s = 12.5e6; // 100 Mbit/s
  EXPECT_DOUBLE_EQ(m.percent(s, resource_kind::network), 50.0);
}

TEST(resource_monitor, recommends_scaling_after_sustained_cpu) {
  auto m = monitor();
  for (int s = 0; s <= 30; ++s)
    m.observe(snap(std::chrono::seconds{s}, 80));
  auto recs = m.recommendations();
  auto has = [&](const std::string& type) {
    return std::any_of(recs.begin(), recs.end(),
                       [&](const auto& r) { return r.type == type; });
  };
  EXPECT_TRUE(has("scale_up"));
  EXPECT_TRUE(has("reduce_batch_size")); // the cpu warning
  auto idle = monitor();
  for (int s = 0; s <= 60; ++s)
    idle.observe(snap(std::chrono::seconds{s}, 5));
  recs = idle.recommendations();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].type, "scale_down");
}
