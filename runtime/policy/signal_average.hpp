#pragma once

// The batcher's signal averages (item latency, request latency, error
// rate): an exponentially weighted moving average in which the newest
// sample weighs 0.3 and the first sample starts it (a zero average is
// "none yet"). batch_engine folds one sample per item or request; the
// limiter zoo's loop (sim/zoo.cpp), which counts items in chunks, folds n
// equal samples at once with the closed form of n single steps.

#include <cmath>

namespace batching {

/// Weight of the newest sample.
inline constexpr double signal_weight = 0.3;

/// Folds `sample` into `ewma` and returns the new average.
inline double observe_signal(double& ewma, double sample) {
  ewma = ewma == 0 ? sample : ewma + signal_weight * (sample - ewma);
  return ewma;
}

/// Folds `n` samples equal to `sample` into `ewma` at once.
inline double observe_signal(double& ewma, double sample, double n) {
  if (n <= 0)
    return ewma;
  if (ewma == 0)
    ewma = sample;
  ewma = sample + (ewma - sample) * std::pow(1 - signal_weight, n);
  return ewma;
}

} // namespace batching
