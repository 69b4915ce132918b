#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/latency_histogram.hpp"

using namespace batching;

TEST(latency_histogram, empty_reports_zero) {
  latency_histogram h;
  EXPECT_EQ(h.quantile_ms(0.99), 0);
  EXPECT_EQ(h.mean_ms(), 0);
}

TEST(latency_histogram, exact_for_small_values_and_mean) {
  latency_histogram h;
  for (int us = 1; us <= 4; ++us)
    h.record(std::chrono::microseconds{us});
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.5), 0.003); // upper edge of 2 us
  EXPECT_DOUBLE_EQ(h.mean_ms(), 0.0025);
  EXPECT_DOUBLE_EQ(h.max_ms(), 0.004);
}

RC_GTEST_PROP(latency_histogram_property, quantiles_within_one_bucket, ()) {
  auto samples = *rc::gen::nonEmpty(
    rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 100'000'000)));
  latency_histogram h;
  for (auto us : samples)
    h.record(std::chrono::microseconds{us});
  std::sort(samples.begin(), samples.end());
  for (double q : {0.5, 0.95, 0.99}) {
    auto rank = static_cast<std::size_t>(
      std::max(1.0, std::ceil(q * static_cast<double>(samples.size()))));
    double exact = samples[rank - 1] / 1000.0;
    double got = h.quantile_ms(q);
    RC_ASSERT(got >= exact);                 // never under-reports
    RC_ASSERT(got <= exact * 1.125 + 0.001); // within one bucket
  }
}
