#pragma once

// Runtime options for tests on a shared machine: two scheduler threads and
// no /proc sampling (no resource alerts from other processes' load).

#include "runtime/system/runtime.hpp"

namespace batching::testing_support {

inline runtime::options quiet() {
  runtime::options opts;
  opts.threads = 2;
  opts.sample_resources = false;
  return opts;
}

} // namespace batching::testing_support
