#pragma once

// The samples one operation type's model trains on, and when it trains.
// The optimizer actor keeps one per type; the limiter zoo keeps one for
// `ml`, so both train on the same schedule.
//
// Algorithm.
//   Keeps the newest max_samples samples. A training is due when at least
//   min_samples are held and at least max(retrain_every, held / 10) arrived
//   since the last training began: at least a tenth of what is held is new,
//   so all trainings together cost O(n log n) in the samples, not O(n^2).
// Invariants: size() <= max_samples; begin() resets the count of new
// samples and hands out every sample held, oldest first.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

class training_set {
public:
  training_set(std::size_t max_samples, std::uint32_t retrain_every,
               std::size_t min_samples)
    : max_(max_samples), every_(retrain_every), min_(min_samples) {}

  void add(training_sample s) {
    samples_.push_back(std::move(s));
    while (samples_.size() > max_)
      samples_.pop_front();
    ++fresh_;
  }

  bool due() const {
    auto need = std::max<std::size_t>(every_, samples_.size() / 10);
    return samples_.size() >= min_ && fresh_ >= need;
  }

  /// Whether a training on demand has enough samples.
  bool enough() const { return samples_.size() >= min_; }

  /// A training begins on everything held.
  std::vector<training_sample> begin() {
    fresh_ = 0;
    return {samples_.begin(), samples_.end()};
  }

  std::size_t size() const { return samples_.size(); }

private:
  std::size_t max_;
  std::uint32_t every_;
  std::size_t min_;
  std::deque<training_sample> samples_;
  std::uint32_t fresh_ = 0;
};

} // namespace batching
