#pragma once

// Batch assembly for one operation type: a priority queue of operations and
// the rule that closes a batch.
//
// Algorithm.
//   Order: four FIFO queues, critical > high > normal > low. A batch is
//   filled from the highest non-empty priority first, except that every
//   `fairness_period`-th batch is filled oldest-first across all priorities.
//   So under sustained high-priority load, low-priority work still gets at
//   least 1/fairness_period of the batches (no starvation), and it is
//   always sent in the order it waited.
//   Closing: a batch is ready when the eligible operations fill the target
//   size (capped by the request's item cap), or fill the request's byte
//   cap, or the oldest eligible operation has waited `linger`.
//   Taking: operations are taken in the order above until the target size,
//   the item cap, or the next operation would exceed the byte cap.
//   Retries: an operation waiting out a backoff is not eligible before its
//   `ready_at` (a min-heap releases it). Throttled operations go back to the
//   front of their queue, keeping their place.
// Invariants: no batch exceeds the item cap or (unless one operation alone
// does) the byte cap; every operation pushed is either taken, removed
// (cancel, deadline) or still held, exactly once.

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

/// An operation waiting in a batcher.
struct queued_item {
  operation op;
  std::uint64_t job_id = 0;
  std::uint64_t index = 0; // position in its job
  priority prio = priority::normal;
  time_point submitted_at; // latency is measured from here
  time_point queued_at;    // linger is measured from here
  time_point ready_at;     // not eligible before (retry backoff)
  time_point deadline;     // epoch: none
  std::uint32_t attempts = 0;

  std::size_t bytes() const { return op.payload.size(); }
};

class batch_queue {
public:
  struct config {
    std::size_t max_items = 100;     // per request
    std::size_t max_bytes = 500'000; // per request
    duration linger = std::chrono::milliseconds{50};
    std::uint32_t fairness_period = 4; // every n-th batch is oldest-first
  };

  explicit batch_queue(config cfg);

  /// Adds an operation at the back of its priority (or to the backoff heap
  /// when ready_at is in the future).
  void push(queued_item item, time_point now);

  /// Returns an operation to the front of its priority (throttled: it keeps
  /// its place and is eligible at once).
  void push_front(queued_item item);

  /// Whether a batch of (up to) `target` operations should leave now.
  bool ready(std::size_t target, time_point now);

  /// The next time after `now` at which ready() may turn true or an
  /// operation expire without new input (linger expiry, a backoff ending,
  /// a deadline); nothing when no such time exists. A batch that is ready
  /// already is not a future event.
  std::optional<time_point> next_wakeup(std::size_t target, time_point now);

  /// Takes the next batch (at most `target` operations, within the caps).
  std::vector<queued_item> take(std::size_t target, time_point now);

  /// Removes every operation of a job (cancellation).
  std::vector<queued_item> remove_job(std::uint64_t job_id);

  /// Removes every operation whose deadline is at or before `now`.
  std::vector<queued_item> remove_expired(time_point now);

  /// Operations held (eligible or backing off).
  std::size_t size() const { return eligible_ + delayed_.size(); }

  std::size_t eligible() const { return eligible_; }

  bool empty() const { return size() == 0; }

  const config& settings() const { return cfg_; }

private:
  struct later_first {
    bool operator()(const queued_item& a, const queued_item& b) const {
      return a.ready_at > b.ready_at;
    }
  };

  void release_delayed(time_point now);
  template <class Predicate>
  std::vector<queued_item> remove_if(Predicate remove);
  std::deque<queued_item>* next_source(bool oldest_first);
  std::optional<time_point> oldest_queued_at() const;

  config cfg_;
  std::array<std::deque<queued_item>, 4> queues_;
  std::priority_queue<queued_item, std::vector<queued_item>, later_first>
    delayed_;
  std::size_t eligible_ = 0;
  std::size_t eligible_bytes_ = 0;
  std::uint64_t batches_taken_ = 0;
  time_point earliest_deadline_ = time_point::max();
};

} // namespace batching
