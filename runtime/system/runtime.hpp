#pragma once

// The host-facing API: a host process uses the batching runtime without
// knowing CAF. Construct it from a configuration (or the YAML files), give
// every backend an executor, start it, submit jobs, follow them, stop it.
//
//   batching::runtime rt{cfg};
//   rt.set_executor("default", [](const batching::batch& b) {
//     return call_my_api(b);            // runs on a worker thread
//   });
//   rt.start();
//   auto job = rt.submit_job("write", ops, batching::priority::high);
//   auto done = rt.wait(job.job_id, std::chrono::seconds{30});
//   rt.stop();
//
// Every call is thread-safe and never blocks longer than its timeout. CAF
// users reach the actors through runtime/system/runtime_actors.hpp.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "config/live.hpp"
#include "runtime/policy/errors.hpp"
#include "runtime/policy/settings.hpp"
#include "runtime/policy/types.hpp"
#include "runtime/policy/workload.hpp"

namespace batching {

/// The answer to submit_job: a job id, or why the job was rejected (whole).
struct submit_result {
  std::uint64_t job_id = 0;
  error_code error = error_code::none;
  std::string message;

  explicit operator bool() const { return error == error_code::none; }
};

class runtime {
public:
  struct options {
    /// Scheduler threads; 0 picks the machine's cores (at least 2).
    std::size_t threads = 0;
    /// Sample /proc for resource alerts (off in tests on shared machines).
    bool sample_resources = true;
    std::string proc_root = "/proc";
    /// Seeds retry jitter.
    std::uint64_t seed = 1;
    /// How long one blocking call (submit, status, dashboard) may take.
    duration call_timeout = std::chrono::seconds{10};
    // The cluster (join, listen, role, TLS) is runtime_config::cluster.
    /// A worker node's coordinator was lost (called on a CAF thread; its
    /// work is being moved to the other nodes, this node has none left).
    /// The node keeps asking the address it joined every second, and
    /// registers anew with the coordinator it finds there (a restarted
    /// one, or the same one after a freeze): on_coordinator_rejoined.
    std::function<void()> on_coordinator_lost;
    /// A worker node registered again, as node `id` (on a CAF thread).
    std::function<void(std::uint32_t)> on_coordinator_rejoined;
  };

  explicit runtime(runtime_config cfg);
  runtime(runtime_config cfg, options opts);

  /// Loads the YAML files (config/loader.hpp) with `environment`; nothing
  /// and the diagnostics in `errors` when they are invalid.
  static std::unique_ptr<runtime>
  from_files(const std::vector<std::string>& files,
             const std::string& environment, std::string& errors, options opts);

  /// Stops (with a short drain) if still running.
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // -- before start ----------------------------------------------------------

  /// A callback that may block: runs on `workers` threads of its own.
  void set_executor(const std::string& backend, sync_callback fn,
                    std::size_t workers = 4);

  /// A callback that never blocks: runs inside the executor actor.
  void set_inline_executor(const std::string& backend, sync_callback fn);

  /// A callback that starts the work and completes it later.
  void set_async_executor(const std::string& backend, async_callback fn);

  /// Spawns the topology. Throws std::invalid_argument when a backend that
  /// an operation type uses has no executor or the cluster options are
  /// inconsistent, std::runtime_error when the cluster cannot be joined or
  /// the listen address not bound.
  void start();

  /// The port this coordinator node is published on (cluster.listen); 0
  /// for other roles.
  std::uint16_t cluster_port() const;

  /// What start() found unfinished in the journal (journal.path): jobs
  /// resumed with their ids, and their operations without an outcome,
  /// which go to the backend again (docs/durability.md).
  struct recovery {
    std::uint64_t jobs = 0;
    std::uint64_t operations = 0;
  };
  recovery recovered() const;

  // -- while running ---------------------------------------------------------

  submit_result submit_job(const std::string& op_type,
                           std::vector<operation> operations,
                           priority prio = priority::normal,
                           duration deadline = duration{0});

  /// Where a job stands; nothing for an unknown job.
  std::optional<job_status> status(std::uint64_t job_id);

  /// Waits up to `timeout` for the job to finish; returns its status then
  /// (finished or not), nothing for an unknown job.
  std::optional<job_status> wait(std::uint64_t job_id, duration timeout);

  /// Cancels the job's unfinished operations; nothing when unknown or
  /// already finished.
  std::optional<job_status> cancel(std::uint64_t job_id);

  /// The seed's performance dashboard as JSON.
  boost::json::value dashboard();

  /// The dashboard in the Prometheus text format (docs/metrics.md); empty
  /// when the coordinator did not answer in time.
  std::string metrics_text();

  // -- resources (docs/metrics.md) --------------------------------------------

  /// Whether resources are sampled (options::sample_resources): without,
  /// there are no alerts, trends or recommendations.
  bool samples_resources() const;

  /// The seed's get_optimization_recommendations(): one per raised alert,
  /// per memory trend that keeps rising (a possible leak) and per scaling
  /// rule (scaling.*) whose CPU condition held for its duration. Empty
  /// without resource sampling; nothing on timeout.
  std::optional<std::vector<recommendation>> recommendations();

  /// The seed's get_performance_trend(window_minutes): each resource's
  /// trend over the last `window` (readings are kept for an hour, so longer
  /// windows see an hour). All stable without resource sampling; nothing
  /// on timeout.
  std::optional<resource_trends> trends(duration window
                                        = std::chrono::minutes{10});

  // -- optimizer (docs/optimizer.md) ------------------------------------------

  /// The batch size the optimizer's model of `op_type` predicts for the
  /// target; confidence 0 while it has not learned. Nothing on timeout.
  std::optional<prediction>
  predict_optimal_batch_size(const std::string& op_type,
                             const feature_vector& features,
                             const optimization_target& target);

  /// The seed's add_training_data: samples of the host's own (measured
  /// elsewhere, or kept from an earlier run) join the type's training set,
  /// as the batchers' windows do (optimizer.train_every_type).
  void add_training_data(const std::vector<training_sample>& samples);

  /// The seed's train_models for one type: trains on the samples held (now,
  /// or right after a training under way) and returns the model's report
  /// (R2, MAE, samples), or nothing with the reason in `error` (an unknown
  /// type, too few samples, a timeout).
  std::optional<model_report> train(const std::string& op_type,
                                    std::string* error = nullptr);

  /// Predictions made, average confidence, model scores, feature
  /// importances, recommendations and warnings.
  std::optional<optimizer_insights> optimization_insights();

  /// Starts an A/B test: every batcher alternates the two strategies per
  /// sample window for `length` and records each window's goodput. The
  /// test id, or the error (an unknown strategy name).
  std::optional<std::string> start_ab_test(const ab_test_config& test,
                                           std::string* error = nullptr);

  /// Records a result of the host's own (performance_score of the seed).
  void record_ab_test_result(const std::string& test_id, bool test_arm,
                             double score);

  /// Means, improvement, Welch's p-value and the recommendation so far;
  /// nothing for an unknown test.
  std::optional<ab_test_result> analyze_ab_test(const std::string& test_id);

  /// Called (on a runtime thread) for every resource alert raised or
  /// cleared. Register before start().
  void on_alert(std::function<void(const resource_alert&)> callback);

  /// Waits up to `drain_timeout` for every operation to finish, then
  /// cancels what is left, stops every actor and returns whether the drain
  /// completed. Idempotent; never hangs (a host callback still running is
  /// abandoned to finish on its own thread).
  bool stop(duration drain_timeout = std::chrono::seconds{30});

  bool running() const;

  /// The seed's load-testing framework against this runtime's own
  /// executors: load generator actors (one per user of each stream) play
  /// `streams` (runtime/policy/workload.hpp; runtime/policy/load_test.hpp
  /// shapes the seed's phases) into the coordinator for `length`, in real
  /// time; `each_second(t)` is called on this thread once a second (read
  /// dashboard() there for a time series). Returns what the generators
  /// submitted once every submission was answered; the operations then
  /// finish on their own (wait for them with wait() or dashboard()).
  play_report play_load(const std::vector<workload_plan>& streams,
                        duration length,
                        const std::function<void(double)>& each_second = {},
                        std::uint64_t seed = 1);

  /// The configuration in effect (a copy: live changes may replace it).
  runtime_config config() const;

  /// The operation types configured, sorted (fixed for the runtime's life:
  /// no live change adds or removes one).
  const std::vector<std::string>& operation_types() const;
  bool has_operation_type(const std::string& type) const;

  /// A live change: `next` differs from config() only in live keys
  /// (config/live.hpp: max concurrent jobs, a type's strategy and bounds, a
  /// backend's declared rate), and is valid as a whole (config::load or
  /// config::apply_patch made it). Applies it to the running actors, logs
  /// each change on stderr and answers the changes (empty: nothing
  /// differed); nothing, with the reason in `error`, when a key that is not
  /// live differs or an actor did not answer. Worker nodes change their
  /// own batchers only.
  std::optional<std::vector<config::live_change>>
  update_config(const runtime_config& next, std::string* error = nullptr);

  struct impl;

private:
  std::unique_ptr<impl> impl_;

  friend impl& internals(runtime&);
};

} // namespace batching
