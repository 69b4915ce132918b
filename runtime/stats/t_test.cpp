#include "runtime/stats/t_test.hpp"

#include <cmath>

#include <boost/math/distributions/students_t.hpp>

namespace batching::stats {

double two_sided_p_value(double t, double df) {
  if (!std::isfinite(t) || !std::isfinite(df) || df <= 0)
    return 1;
  boost::math::students_t dist{df};
  return 2 * boost::math::cdf(boost::math::complement(dist, std::abs(t)));
}

ab_test_result analyze(const ab_test& test, std::string test_id) {
  double p = 1;
  if (auto w = test.batch_welch())
    p = two_sided_p_value(w->t, w->df);
  return test.result(std::move(test_id), p);
}

} // namespace batching::stats
