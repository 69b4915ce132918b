#pragma once

// How one operation type's throughput and item latency respond to batch
// size and load, learned from training samples; and the batch size that
// best meets an optimization target. Dlib lives only in the .cpp.
//
// Algorithm.
//   Inputs x: the ten fields of feature_vector, each put on a log scale
//     (log1p; seconds_since_throttle capped at 600 s first) and
//     standardized by the training set's mean and standard deviation (the
//     deviation floored at 0.05 so a feature that never varied cannot
//     blow up distances), then weighted by relevance: a first fit (gamma
//     0.1, up to 2,000 rows) gives each input's permutation-importance share
//     w, and the input is scaled by min(3, sqrt(10 w)), so inputs that do not
//     matter stop diluting RBF distances and the proximity below.
//   Outputs: two regressors, log1p(throughput) and log1p(item latency ms),
//     each kernel ridge regression with an RBF kernel
//     k(a, b) = exp(-gamma |a - b|^2), gamma in {0.03, 0.1, 0.3, 1} (the
//     one of least leave-one-out error), at most 100 basis vectors picked by
//     Dlib's linearly independent subset finder, the ridge lambda chosen by
//     leave-one-out error. Why KRR: the response surfaces are smooth in
//     batch size and load, the inputs are few, training is a linear solve
//     in the basis (10,000 samples train in well under 2 s), a prediction
//     costs 100 kernel evaluations, and leave-one-out errors come for free
//     from the same solve (random forests are piecewise constant along the
//     batch-size axis, so an argmax over sizes would be flat steps; online
//     KRLS is slow per update and sensitive to its dictionary).
//   Scores (what `train` reports): R^2 and MAE of the leave-one-out
//     predictions, in original units (items/s, ms).
//   Confidence of an estimate at x, in [0, 1], from three kinds of evidence:
//       quality   = clamp(1 - max(rMAE_throughput, rMAE_latency), 0, 1),
//                   rMAE = leave-one-out MAE / mean |y|;
//       support   = n / (n + 15), n = training samples;
//       proximity = exp(-max(0, d^2 - h^2) / (2 h^2)), d = distance from x
//                   to the nearest training sample in the weighted
//                   standardized space (kept: up to 2,000 evenly spaced
//                   samples), h = the median nearest-neighbour distance
//                   among them (floor 0.25): 1 within the data's own
//                   spacing, falling off beyond it.
//     confidence = quality * support * proximity.
//   Choosing a batch size (predict): candidates are 16 sizes spaced
//   geometrically over [lo, hi] plus the current size; each is estimated
//   with the other features as given, and only those within the trust
//   region are kept: proximity >= 0.5 (if none is, the nearest ones), so
//   the model never picks a size it has no data near; as exploration
//   around its pick extends the data, the region grows. When the target
//   names the confidence the asker acts on (min_confidence c), the region
//   narrows to the sizes whose confidence reaches c, if any do: proximity
//   >= max(0.5, c / (quality * support)). With
//   R = max_response_time_ms (0: no
//   bound) and D = target_throughput (0: as much as possible), and tp*
//   the largest throughput estimated among candidates within R:
//     throughput: the largest size estimated within 2% of tp* (within R):
//                 as much throughput for the fewest requests;
//     balanced:   the lowest latency among candidates within R reaching
//                 0.95 * min(D, tp*);
//     latency:    the same with 0.9 instead of 0.95;
//     if no candidate is within R: the lowest estimated latency.
//   The prediction's confidence is the chosen candidate's.
//   Feature importances: permutation importance on up to 500 kept samples
//   (each feature's values rotated by half the set), as the mean increase
//   of the absolute error of both models, normalized to sum to 1.
// Invariants: predict answers a size in [lo, hi]; an untrained model
// answers confidence 0; confidence is in [0, 1].

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

/// A model file that cannot be read (wrong format, version, or corrupt).
class model_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Leave-one-out scores of a trained model, in original units.
struct model_scores {
  double throughput_r2 = 0;
  double throughput_mae = 0; // items/s
  double latency_r2 = 0;
  double latency_mae = 0; // ms
  std::size_t samples = 0;

  bool operator==(const model_scores&) const = default;
};

/// The model's estimate at one point of the feature space.
struct response_estimate {
  double throughput = 0; // items/s
  double latency_ms = 0;
  double confidence = 0; // [0, 1]
};

class response_model {
public:
  /// Format version written by save() and required by load().
  static constexpr std::uint32_t format_version = 1;
  /// Fewer samples than this leave the model untrained.
  static constexpr std::size_t min_samples = 20;

  response_model();
  ~response_model();
  response_model(const response_model&);
  response_model& operator=(const response_model&);
  response_model(response_model&&) noexcept;
  response_model& operator=(response_model&&) noexcept;

  /// Trains on `samples` (replacing what was learned), skipping any with
  /// a non-finite value. Returns false and keeps the previous model when
  /// fewer than min_samples remain.
  bool train(const std::vector<training_sample>& samples);

  bool trained() const;
  const model_scores& scores() const;

  /// Throughput and latency at `f`, with confidence.
  response_estimate estimate(const feature_vector& f) const;

  /// The batch size in [lo, hi] that best meets `target` with the other
  /// features as in `f`.
  prediction predict(const feature_vector& f, const optimization_target& target,
                     std::uint32_t lo, std::uint32_t hi) const;

  /// Permutation importance per feature name (sums to 1; empty untrained).
  const std::map<std::string, double>& importances() const;

  /// Writes the model (format_version first).
  void save(std::ostream& out) const;
  /// Reads a model written by save(); throws model_error naming what is
  /// wrong, leaving *this unchanged.
  void load(std::istream& in);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Names of the ten features, in feature_vector's order.
const std::vector<std::string>& feature_names();

} // namespace batching
