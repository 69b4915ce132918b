#pragma once

// The batcher of one operation type, as a pure state machine: queue,
// batch size, retries and outcome accounting. The batcher actor only moves
// messages in and out of it.
//
// Algorithm.
//   enqueue:  operations join the batch_queue (an operation larger than the
//             request byte cap fails at once: no request could carry it).
//   permit:   the actor asks its backend's gate for a permit whenever
//             needs_permit(now) (a batch is ready and no permit is pending);
//             on a permit, take_batch() takes up to the strategy's size.
//   outcome:  ok -> each operation succeeds (or follows its item_result;
//               a result list of the wrong length counts as retryable);
//             throttled -> every operation returns to the front of its
//               queue, its attempt not counted (429 is backpressure);
//             retryable -> attempts < max_attempts: back to the queue after
//               retry_policy's backoff; else failed;
//             permanent -> failed with the backend's message.
//             Then the strategy gets the request's signals.
//   cancel / deadline: queued operations finish as cancelled / failed;
//             operations in flight finish by their outcome, except that a
//             cancelled job's operations never go back to the queue.
//   learning (types whose strategy learns, `ml`; with `sample`, every type
//             closes the same windows for its model, but takes no advice):
//             a sample_window (runtime/policy/sample_window.hpp) counts
//             enqueues, sends and outcomes; take_sample closes it into a
//             training_sample and tells the strategy the closed window's
//             state; advise() passes a prediction to the strategy only when
//             the window accepts it (confident enough), and held advice
//             lapses after three sample periods without a newer one.
//   A/B test: start_ab swaps in the control arm's strategy and the test
//             arm's beside it; windows then close for every type, each
//             window's goodput (succeeded items/s) is one sample of the arm
//             that sized it, and the arms swap at each close until the
//             test's end, when the configured strategy returns. Batches
//             still in flight when the arms swap count to the next window
//             (a small, symmetric spill-over).
// Inputs: `now` on every call; outcomes match batches by batch_id and items
// by position. Outputs: batches, and operation_events (sent, requeued,
// finished) drained by take_events().
// Invariants: every enqueued operation is finished exactly once; no batch
// exceeds the item cap or, unless one operation alone does, the byte cap;
// an operation that succeeded is never sent again.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/policy/batch_queue.hpp"
#include "runtime/policy/batch_size_strategy.hpp"
#include "runtime/policy/latency_histogram.hpp"
#include "runtime/policy/random.hpp"
#include "runtime/policy/retry.hpp"
#include "runtime/policy/sample_window.hpp"
#include "runtime/policy/settings.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

/// Whether operation `i` of a batch of `n` operations succeeded by `o`:
/// the batch succeeded and has no per-item results, or its i-th result is
/// ok. Results that do not match the operations in number say nothing
/// (never guess which ones succeeded): no operation succeeded.
bool item_succeeded(const batch_outcome& o, std::size_t i, std::size_t n);

class batch_engine {
public:
  struct config {
    std::string op_type = "read";
    std::string backend = "default";
    strategy_kind strategy = strategy_kind::adaptive;
    batch_size_strategy::limits sizing;
    batch_queue::config queue;
    retry_policy::config retry;
    duration request_timeout = std::chrono::seconds{30};
    std::uint64_t seed = 1;
    /// Learning (set for `ml`): training-sample windows and advice.
    bool learn = false;
    /// Training-sample windows without advice (every type when
    /// optimizer.train_every_type): the model learns, sizing stays.
    bool sample = false;
    duration sample_period = std::chrono::seconds{2};
    double min_confidence = 0.6;
    target_priority priority = target_priority::balanced;
    /// The backend's configuration declares a request budget (its pacer
    /// starts at a rate): learning treats it as in play from the start.
    bool documented_budget = false;
  };

  /// One A/B sample: a window's goodput under one arm.
  struct ab_sample {
    std::string test_id;
    bool test_arm = false;
    double goodput = 0; // succeeded items/s
  };

  explicit batch_engine(config cfg);

  /// The engine settings of operation type `type` under `cfg` (bounds,
  /// strategy, its backend's caps, retry rules and timeout).
  static config from_settings(const runtime_config& cfg,
                              const std::string& type, std::uint64_t seed);

  /// The largest batch of `type` under `cfg`: batching.max_batch_size,
  /// its own max_batch_size and its backend's max_items_per_request (a
  /// batch is one request), whichever is least.
  static std::uint32_t batch_ceiling(const runtime_config& cfg,
                                     const std::string& type);

  /// Accepts operations [first_index, first_index + ops.size()) of a job.
  void enqueue(std::uint64_t job_id, priority prio, time_point deadline,
               std::uint64_t first_index, std::vector<operation> ops,
               time_point now);

  /// Cancels a job's queued operations.
  void cancel(std::uint64_t job_id, time_point now);

  /// Fails queued operations whose job deadline passed.
  void expire(time_point now);

  /// Whether to ask for a permit now.
  bool needs_permit(time_point now);

  /// Records that a permit was asked for.
  void permit_requested() { permit_pending_ = true; }

  /// The gate asked died (it is restarted): a permit may be asked again.
  void permit_lost() { permit_pending_ = false; }

  /// A permit arrived: the batch to send, or nothing (the queue emptied
  /// meanwhile; return the permit unused).
  std::optional<batch> take_batch(time_point now);

  /// A request's result.
  void on_outcome(const batch_outcome& outcome, time_point now);

  /// Resource pressure: 0 none, 0.5 warning, 1 critical.
  void set_pressure(double pressure) { pressure_ = pressure; }

  /// When to wake up without new input (linger, backoff, deadline).
  std::optional<time_point> next_wakeup(time_point now);

  /// Events since the last call.
  operation_events take_events();

  /// The training sample of the window that closed, if one did (learning
  /// types only; at most one per call).
  std::optional<training_sample> take_sample(time_point now);

  /// What predictions aim for: the recent arrival rate within the latency
  /// target, with the configured priority, or throughput while a request
  /// budget is in play (declared, or a 429 within 600 s).
  optimization_target target(time_point now) const;

  /// A live change (runtime::update_config): the type's strategy and size
  /// bounds become `next`'s (and with them whether it learns). The
  /// strategy starts afresh within the new bounds; during an A/B test the
  /// arms run on and the new strategy is the one that returns after it.
  void reconfigure(const config& next);

  /// Starts an A/B test between two strategies until `until`.
  void start_ab(std::string test_id, strategy_kind control, strategy_kind test,
                time_point until);

  /// The A/B sample of the window that closed at the last take_sample.
  std::optional<ab_sample> take_ab_sample();

  /// The optimizer's answer to the last take_sample's window.
  void advise(const prediction& p, time_point now);

  /// Latest cpu and memory usage in percent (learning features).
  void set_resources(double cpu_percent, double memory_percent);

  /// Current figures (request_rate and breaker are the gate's; the shell
  /// fills them in).
  batching_metrics metrics(time_point now) const;

  std::size_t queued() const { return queue_.size(); }
  const config& settings() const { return cfg_; }

private:
  void finish(const queued_item& item, operation_state state, std::string error,
              time_point now);
  void retry_or_fail(queued_item item, const std::string& why, time_point now);
  /// Puts an operation back (front: throttled), unless its job was
  /// cancelled, in which case it finishes as cancelled.
  void requeue(queued_item item, bool front, time_point now);

  config cfg_;
  batch_queue queue_;
  std::unique_ptr<batch_size_strategy> strategy_;
  retry_policy retry_;
  seeded_random rng_;
  std::unordered_map<std::uint64_t, std::vector<queued_item>> in_flight_;
  // Jobs cancelled while some of their operations were in flight: those
  // finish as cancelled instead of going back to the queue.
  std::unordered_set<std::uint64_t> cancelled_;
  std::uint64_t next_batch_id_ = 1;
  bool permit_pending_ = false;
  double pressure_ = 0;
  operation_events events_;
  // Statistics.
  double item_latency_ms_ = 0;
  double request_latency_ms_ = 0;
  double error_rate_ = 0;
  std::uint64_t succeeded_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t throttled_ = 0;
  std::uint64_t requests_ = 0;
  time_point first_success_{};
  latency_histogram latencies_;
  // Learning: the open window; resource usage for its features.
  sample_window window_;
  double cpu_percent_ = 0;
  double memory_percent_ = 0;
  struct ab_run {
    std::string id;
    time_point until{};
    std::unique_ptr<batch_size_strategy> other;
    std::unique_ptr<batch_size_strategy> configured;
    bool test_arm = false;
  };
  std::optional<ab_run> ab_;
  std::optional<ab_sample> ab_sample_;
};

} // namespace batching
