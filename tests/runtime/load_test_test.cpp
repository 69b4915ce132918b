// The seed's load-test phases and the performance-targets comparison.

#include <gtest/gtest.h>

#include "runtime/policy/load_test.hpp"

using namespace batching;

TEST(load_test, the_seeds_phases_ramp_hold_spike_and_hold) {
  load_shape s;
  s.duration_s = 100;
  s.peak_items_per_s = 90;
  s.spike_multiplier = 10;
  s.mix = {{"write", 2}, {"read", 1}};
  auto plans = seed_phases(s);
  ASSERT_EQ(plans.size(), 2u);
  const auto& read = plans[0];
  const auto& write = plans[1];
  EXPECT_EQ(read.op_type, "read");
  EXPECT_EQ(write.arrival, arrival_kind::ramp);
  arrival_process w{write, 0, 1, 0};
  EXPECT_DOUBLE_EQ(w.rate_at(0), 0);
  EXPECT_NEAR(w.rate_at(10), 30, 1e-9); // halfway up the ramp to 60
  EXPECT_NEAR(w.rate_at(40), 60, 1e-9);
  EXPECT_NEAR(w.rate_at(70), 600, 1e-9); // the spike
  EXPECT_NEAR(w.rate_at(90), 60, 1e-9);
  arrival_process r{read, 0, 1, 0};
  EXPECT_NEAR(r.rate_at(40), 30, 1e-9);
  EXPECT_EQ(phase_at(s, 5), "ramp");
  EXPECT_EQ(phase_at(s, 65), "spike");
  EXPECT_EQ(phase_at(s, 80), "steady");
}

TEST(load_test, targets_pass_fail_or_are_not_measured) {
  performance_targets_config t; // the shipped values
  measured_performance m;
  m.p99_response_time_ms = 640;
  m.average_response_time_ms = 510;
  m.success_rate_without_throttling_percent = 95;
  auto v = check_targets(t, m);
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0].key, "throughput_improvement_percent");
  EXPECT_EQ(v[0].status, target_status::not_measured);
  EXPECT_EQ(v[2].status, target_status::pass); // 95 >= 95
  EXPECT_EQ(v[3].status, target_status::fail); // 510 > 500
  EXPECT_EQ(v[4].status, target_status::pass);
  EXPECT_EQ(to_text(v[4]),
            "pass  p99_response_time_ms: 640.0 (target <= 1000)");
  EXPECT_EQ(to_text(v[3]),
            "FAIL  average_response_time_ms: 510.0 (target <= 500)");
  EXPECT_EQ(to_text(v[7]),
            "n/a   load_multiplier: not measured (target >= 10)");
}
