// A/B bookkeeping: Welford statistics, Welch's t and df, the verdict.

#include <cmath>

#include <gtest/gtest.h>

#include "runtime/policy/ab_test.hpp"

using namespace batching;

namespace {

ab_test make(std::uint64_t min_samples = 2, bool higher_is_better = true) {
  return ab_test{{"t", "a", "b", min_samples, 0.05, higher_is_better}};
}

} // namespace

TEST(ab_test, welford_matches_the_textbook_mean_and_variance) {
  arm_stats s;
  for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0})
    s.add(x);
  EXPECT_EQ(s.n, 8u);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.variance(), 32.0 / 7.0, 1e-12);
}

TEST(ab_test, welch_t_and_degrees_of_freedom) {
  auto t = make();
  for (double x : {0.0, 2.0})
    t.record(false, x); // mean 1, variance 2
  for (double x : {3.0, 5.0})
    t.record(true, x); // mean 4, variance 2
  auto w = t.welch();
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->t, 3 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(w->df, 2.0, 1e-12);
}

TEST(ab_test, the_verdict_needs_samples_and_significance) {
  auto t = make(3);
  t.record(false, 1);
  t.record(false, 2);
  t.record(true, 5);
  t.record(true, 6);
  auto r = t.result("x", 0.001);
  EXPECT_EQ(r.recommendation, ab_recommendation::inconclusive); // n < 3
  t.record(false, 1.5);
  t.record(true, 5.5);
  EXPECT_EQ(t.result("x", 0.001).recommendation, ab_recommendation::adopt);
  EXPECT_EQ(t.result("x", 0.2).recommendation,
            ab_recommendation::inconclusive); // not significant
  r = t.result("x", 0.001);
  EXPECT_NEAR(r.improvement_percent, (5.5 - 1.5) / 1.5 * 100, 1e-9);
  EXPECT_EQ(r.control_samples, 3u);
  EXPECT_EQ(r.test_samples, 3u);
}

TEST(ab_test, lower_is_better_flips_the_verdict) {
  auto t = make(2, false); // e.g. latency
  for (double x : {10.0, 11.0, 12.0})
    t.record(false, x);
  for (double x : {20.0, 21.0, 22.0})
    t.record(true, x);
  auto r = t.result("x", 0.001);
  EXPECT_EQ(r.recommendation, ab_recommendation::keep);
  EXPECT_LT(r.improvement_percent, 0);
}
