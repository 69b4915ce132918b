// Welch's t-test p-values against known values, and A/B tests in the
// simulator between strategies whose difference is known.

#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/policy/random.hpp"
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

TEST(t_test, batch_means_match_hand_computed_values) {
  // 43 samples: b = 4, the oldest 3 left out, ten means 5.5, 9.5, ...
  std::vector<double> xs;
  for (int i = 1; i <= 43; ++i)
    xs.push_back(i);
  auto means = batch_means(xs);
  ASSERT_EQ(means.size(), 10u);
  EXPECT_EQ(means.front(), 5.5);
  EXPECT_EQ(means.back(), 41.5);
  EXPECT_EQ(batch_means({1, 2, 3}), (std::vector<double>{1, 2, 3})); // b = 1
  EXPECT_TRUE(batch_means({}).empty());
  // Arms of 40 (b = 4): batch means 2.5, 6.5, ..., 38.5 and the same + 10,
  // each of variance 16 * 55 / 6: t = 10 / sqrt(2 (440 / 3) / 10), df = 18.
  ab_test ab{{"bm", "a", "b", 2, 0.05, true}};
  for (int i = 1; i <= 40; ++i) {
    ab.record(false, i);
    ab.record(true, i + 10);
  }
  auto w = ab.batch_welch();
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->t, 10 / std::sqrt(2 * (440.0 / 3) / 10), 1e-12);
  EXPECT_NEAR(w->df, 18, 1e-9);
  auto r = stats::analyze(ab, "bm");
  EXPECT_EQ(r.control_batches, 10u);
  EXPECT_EQ(r.test_batches, 10u);
  EXPECT_NEAR(
    r.p_value,
    stats::two_sided_p_value(10 / std::sqrt(2 * (440.0 / 3) / 10), 18), 1e-15);
  // Raw Welch on the 40 + 40 samples: variance 410 / 3 each, t = 10 /
  // sqrt(2 (410 / 3) / 40) = 3.82 on 78 df.
  EXPECT_NEAR(ab.welch()->t, 10 / std::sqrt(2 * (410.0 / 3) / 40), 1e-12);
}

// A pair of AR(1) series (x_t = 0.9 x_{t-1} + e_t, the autocorrelation of
// consecutive windows of one runtime), 400 samples an arm, 400 seeds. With
// no difference, Welch on the raw samples calls "significant" on far more
// than 5% of seeds; on batch means near 5%. With a known difference of
// one stationary standard deviation, batch means still finds it.
TEST(t_test, batch_means_hold_their_level_on_autocorrelated_samples) {
  auto arm = [](seeded_random& rng, double shift) {
    std::vector<double> xs;
    double x = 0;
    for (int i = 0; i < 500; ++i) {
      // Normal noise from 12 uniforms (Irwin-Hall): mean 0, variance 1.
      double e = -6;
      for (int k = 0; k < 12; ++k)
        e += rng.uniform();
      x = 0.9 * x + e;
      if (i >= 100) // past the start
        xs.push_back(x + shift);
    }
    return xs;
  };
  const double sd = 1 / std::sqrt(1 - 0.81);
  int raw_hits = 0, batch_hits = 0, found = 0;
  const int seeds = 400;
  for (int seed = 1; seed <= seeds; ++seed) {
    seeded_random rng{static_cast<std::uint64_t>(seed)};
    for (double shift : {0.0, sd}) {
      ab_test ab{{"ar", "a", "b", 30, 0.05, true}};
      for (double x : arm(rng, 0))
        ab.record(false, x);
      for (double x : arm(rng, shift))
        ab.record(true, x);
      auto batch = stats::analyze(ab, "ar");
      if (shift == 0) {
        auto raw = ab.welch();
        raw_hits += raw && stats::two_sided_p_value(raw->t, raw->df) < 0.05;
        batch_hits += batch.p_value < 0.05;
      } else {
        found += batch.recommendation == ab_recommendation::adopt;
      }
    }
  }
  std::printf("AR(1) 0.9, no difference: raw Welch significant on %.1f%% "
              "of seeds, batch means on %.1f%%; a difference of one sd "
              "adopted on %.1f%%\n",
              100.0 * raw_hits / seeds, 100.0 * batch_hits / seeds,
              100.0 * found / seeds);
  EXPECT_GT(raw_hits, seeds / 4);    // the old method's overstatement
  EXPECT_LE(batch_hits, seeds / 10); // near the nominal 5%
  EXPECT_GE(found, seeds * 8 / 10);
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
