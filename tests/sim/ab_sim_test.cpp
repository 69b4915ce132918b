// Welch's t-test p-values against known values, and A/B tests in the
// simulator between strategies whose difference is known.

#include <cmath>

#include <gtest/gtest.h>

#include "runtime/stats/t_test.hpp"
#include "sim/ab.hpp"

using namespace batching;
using namespace batching::sim;

TEST(t_test, p_values_match_closed_forms_and_a_published_example) {
  // df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so p = 1 - |t| / sqrt(2 + t^2).
  double t = 3 / std::sqrt(2.0);
  EXPECT_NEAR(stats::two_sided_p_value(t, 2), 1 - t / std::sqrt(2 + t * t),
              1e-12);
  // df = 1 (Cauchy): p = 1 - 2 atan(|t|) / pi.
  EXPECT_NEAR(stats::two_sided_p_value(-1.5, 1), 1 - 2 * std::atan(1.5) / M_PI,
              1e-12);
  // Welch's example 1 (Wikipedia, "Welch's t-test"): t = -2.46, df = 25.0,
  // p = 0.021.
  ab_test ab{{"w", "a1", "a2", 2, 0.05, true}};
  for (double x : {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6,
                   23.1, 19.6, 19.0, 21.7, 21.4})
    ab.record(true, x);
  for (double x : {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2,
                   21.9, 22.1, 22.9, 20.5, 24.4})
    ab.record(false, x);
  auto w = ab.welch();
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->t, -2.46, 0.01);
  EXPECT_NEAR(w->df, 25.0, 0.1);
  EXPECT_NEAR(stats::two_sided_p_value(w->t, w->df), 0.021, 0.001);
  EXPECT_EQ(stats::two_sided_p_value(NAN, 3), 1);
}

// notion_steady: the static baseline carries 50 writes a request under a
// 3 requests/s budget (~140 items/s), adaptive up to 100 (the offered 250);
// the A/B test must adopt adaptive over static and keep it the other way.
// Below capacity (low traffic) both deliver the offered load: inconclusive.
TEST(ab_sim, picks_the_better_strategy_when_the_difference_is_known) {
  std::vector<config::diagnostic> errors;
  auto steady = load_scenario(
    {std::string{BATCHING_SOURCE_DIR} + "/sim/scenarios/notion_steady.yaml",
     {},
     true},
    errors);
  ASSERT_TRUE(errors.empty());
  steady.duration_s = 90;
  steady.drain_s = 30;
  auto adaptive = *find_strategy("adaptive");
  auto fixed = *find_strategy("static");
  auto forward = run_ab_test(steady, fixed, adaptive);
  EXPECT_EQ(forward.result.recommendation, ab_recommendation::adopt);
  EXPECT_GT(forward.result.improvement_percent, 50);
  EXPECT_LT(forward.result.p_value, 1e-6);
  EXPECT_EQ(forward.result.test_samples, 90u);
  auto backward = run_ab_test(steady, adaptive, fixed);
  EXPECT_EQ(backward.result.recommendation, ab_recommendation::keep);
  auto low = load_scenario({std::string{BATCHING_SOURCE_DIR}
                              + "/sim/scenarios/notion_low_traffic.yaml",
                            {},
                            true},
                           errors);
  low.duration_s = 90;
  low.drain_s = 30;
  EXPECT_EQ(run_ab_test(low, fixed, adaptive).result.recommendation,
            ab_recommendation::inconclusive);
}
