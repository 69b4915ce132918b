#pragma once

// What a simulated backend answers to one request, and after how much
// (virtual) time.

#include "runtime/policy/types.hpp"

namespace batching::sim {

struct delayed_answer {
  batch_outcome outcome;
  duration delay{0};
};

} // namespace batching::sim
