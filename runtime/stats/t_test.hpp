#pragma once

// Student's t distribution for the A/B tests (Boost.Math behind a plain
// interface, so the policy layer stays standard-library only).

#include <string>

#include "runtime/policy/ab_test.hpp"

namespace batching::stats {

/// Two-sided p-value of statistic `t` with `df` degrees of freedom; 1 when
/// either is not finite or df <= 0.
double two_sided_p_value(double t, double df);

/// The test's result now, with Welch's two-sided p-value over batch means
/// (1 while the statistic is undefined).
ab_test_result analyze(const ab_test& test, std::string test_id);

} // namespace batching::stats
