#pragma once

// Student's t distribution for the A/B tests (Boost.Math behind a plain
// interface, so the policy layer stays standard-library only).

namespace batching::stats {

/// Two-sided p-value of statistic `t` with `df` degrees of freedom; 1 when
/// either is not finite or df <= 0.
double two_sided_p_value(double t, double df);

} // namespace batching::stats
