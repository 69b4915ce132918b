#pragma once

// Logs of instants kept in time order (send times, mostly). Answers come
// back out of send order, so an entry may land before the newest.

#include <algorithm>
#include <deque>

#include "runtime/policy/types.hpp"

namespace batching {

/// Inserts `t` into a log kept in time order, after any equal entries.
inline void insert_in_order(std::deque<time_point>& log, time_point t) {
  log.insert(std::upper_bound(log.begin(), log.end(), t), t);
}

} // namespace batching
