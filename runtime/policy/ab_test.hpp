#pragma once

// A/B test bookkeeping and verdict, pure: samples per arm (Welford's running
// mean and variance, and the samples in order), Welch's t statistic and
// degrees of freedom over batch means, and the recommendation once a
// p-value is known (runtime/stats computes it; the policy layer stays free
// of Boost).
//
// Algorithm. Per arm: n, mean, M2 (Welford) and the samples x_1..x_n in
// the order recorded. Samples are consecutive windows of one runtime, so
// they are autocorrelated (a backlog, a pacer's state carry over): Welch's
// test on them treats n correlated samples as n independent ones and
// overstates significance. Non-overlapping batch means fix that: per arm,
// b = max(1, floor(n / 10)) samples a batch, the oldest n mod b dropped
// (the start is the least settled), B = floor(n / b) batch means (10 to
// 19 once n >= 10: Schmeiser's 10-30 batches; fewer, longer batches than
// b = sqrt(n), whose means stayed correlated under strong autocorrelation
// and called 10% of equal AR(1) 0.9 pairs significant at 5%), close to
// independent once b spans the correlation; Welch on them:
//   t  = (mean_test - mean_control) / sqrt(v_c / n_c + v_t / n_t)
//   df = (v_c/n_c + v_t/n_t)^2 / ((v_c/n_c)^2/(n_c-1) + (v_t/n_t)^2/(n_t-1))
//   with n = B and v the batch means' variance (welch() gives the same on
//   the raw samples, for independent scores);
// improvement % = (mean_test - mean_control) / |mean_control| * 100, sign
//   flipped when lower is better (latency);
// recommendation: inconclusive while either arm has < min_samples or
//   p > significance (or the statistics are undefined); else adopt when
//   the test arm is better, keep when the control arm is.
// Invariants: recording never changes the other arm; the verdict depends
// only on the samples and the configuration.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

/// Running mean and variance of one arm (Welford).
struct arm_stats {
  std::uint64_t n = 0;
  double mean = 0;
  double m2 = 0;

  void add(double x);

  /// Sample variance (n - 1); 0 below two samples.
  double variance() const {
    return n > 1 ? m2 / static_cast<double>(n - 1) : 0;
  }
};

/// Welch's t statistic and its degrees of freedom.
struct welch_statistic {
  double t = 0;
  double df = 0;
};

/// Batches a verdict aims for (at least this many once n allows).
constexpr std::size_t batches_wanted = 10;

/// Non-overlapping batch means of samples in time order: b = max(1,
/// floor(n / batches_wanted)) samples a batch, the oldest n mod b left out.
std::vector<double> batch_means(const std::vector<double>& xs);

/// Welch's t and df of two independent samples; nothing while either has
/// < 2 values or both variances are 0.
std::optional<welch_statistic> welch_of(const arm_stats& control,
                                        const arm_stats& test);

class ab_test {
public:
  struct config {
    std::string name;
    std::string control;
    std::string test;
    std::uint64_t min_samples = 30;
    double significance = 0.05;
    bool higher_is_better = true;
  };

  explicit ab_test(config cfg) : cfg_(std::move(cfg)) {
    // nop
  }

  void record(bool test_arm, double value) {
    (test_arm ? test_ : control_).add(value);
    (test_arm ? test_samples_ : control_samples_).push_back(value);
  }

  const arm_stats& control() const { return control_; }
  const arm_stats& test() const { return test_; }
  const config& settings() const { return cfg_; }

  /// Welch's t and df on the raw samples (valid for independent ones);
  /// nothing while either arm has < 2 samples or both variances are 0.
  std::optional<welch_statistic> welch() const;

  /// Welch's t and df on each arm's batch means (above): what the verdict
  /// uses; nothing while either arm has < 2 batches.
  std::optional<welch_statistic> batch_welch() const;

  /// The result with `p_value` (two-sided) from batch_welch().
  ab_test_result result(std::string test_id, double p_value) const;

private:
  config cfg_;
  arm_stats control_;
  arm_stats test_;
  std::vector<double> control_samples_;
  std::vector<double> test_samples_;
};

} // namespace batching
