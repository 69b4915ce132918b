#pragma once

// What a simulated backend answers to one request, and after how much
// (virtual) time.

#include "runtime/policy/types.hpp"

namespace batching::sim {

struct delayed_answer {
  batch_outcome outcome;
  duration delay{0};
  /// The answer never reaches the client (the backend may still have done
  /// the work: a late answer, see backend_params::late_answer_rate).
  bool lost = false;
};

} // namespace batching::sim
