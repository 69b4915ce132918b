#pragma once

// Every actor of the runtime on one page: its typed interface, one line per
// message it accepts. Handles of these types are the only way actors talk to
// each other (design.md §1); timers are delayed messages to self carrying a
// generation number, so stale ones are ignored.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/messages.hpp"

namespace batching {

// -- atoms (at most 10 characters) --------------------------------------------

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using dashboard_atom = caf::atom_constant<caf::atom("dashboard")>;
using enqueue_atom = caf::atom_constant<caf::atom("enqueue")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using allow_atom = caf::atom_constant<caf::atom("allow")>;
using execute_atom = caf::atom_constant<caf::atom("execute")>;
using trends_atom = caf::atom_constant<caf::atom("trends")>;
using recommend_atom = caf::atom_constant<caf::atom("recommend")>;
using alerts_atom = caf::atom_constant<caf::atom("alerts")>;
using predict_atom = caf::atom_constant<caf::atom("predict")>;
using insights_atom = caf::atom_constant<caf::atom("insights")>;
using ab_start_atom = caf::atom_constant<caf::atom("ab_start")>;
using ab_record_atom = caf::atom_constant<caf::atom("ab_record")>;
using ab_analyze_atom = caf::atom_constant<caf::atom("ab_analyze")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using acquire_atom = caf::atom_constant<caf::atom("acquire")>;
using permit_atom = caf::atom_constant<caf::atom("permit")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using play_atom = caf::atom_constant<caf::atom("play")>;
using train_atom = caf::atom_constant<caf::atom("train")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
/// A live configuration change (runtime::update_config).
using reconfigure_atom = caf::atom_constant<caf::atom("reconfig")>;

// -- executor -----------------------------------------------------------------

/// Turns a batch into backend calls (host function, HTTP, simulated backend).
using executor_actor = caf::typed_actor<
  // Runs one batch; the answer always arrives (errors become an outcome).
  caf::replies_to<execute_atom, batch>::with<batch_outcome>>;

// -- circuit breaker (the backend's gate) ------------------------------------

/// Anyone who wants a breaker's transitions pushed to it.
using breaker_listener = caf::typed_actor<
  // A breaker changed state.
  caf::reacts_to<breaker_state_changed>>;

/// Whoever asks a gate for permits (the batchers).
using permit_listener = caf::typed_actor<
  // A request may go to the backend now; report it with request_completed.
  caf::reacts_to<permit_atom, std::uint64_t>>;

/// One per backend, shared by every operation type using it: the circuit
/// breaker (closed -> open -> half-open -> closed) and the pacer (the
/// backend's one request budget). A request leaves only with its permit.
/// A gate that follows the cluster's pauses (docs/deployment.md).
using budget_listener = caf::typed_actor<
  // A 429 seen by some node: pause the backend for this long.
  caf::reacts_to<cluster_pause>>;

/// The cluster's budget authority: owns each backend's request budget and
/// leases permits to the nodes' gates.
using budget_authority_actor = caf::typed_actor<
  // Permits of the current window (maybe none, with when to ask again).
  caf::replies_to<lease_atom, lease_request>::with<lease_grant>,
  // Unspent permits given back.
  caf::reacts_to<lease_return>,
  // A node saw a 429: every subscribed gate is told to pause.
  caf::reacts_to<throttle_report>,
  // Push every pause to the listener (monitored: dropped when it dies).
  caf::reacts_to<caf::subscribe_atom, budget_listener>>;

using circuit_breaker_actor = caf::typed_actor<
  // Ask for one permit; it arrives as permit_atom when breaker and pacer
  // allow (FIFO among askers).
  caf::reacts_to<acquire_atom, permit_listener>,
  // Report a permit: the request's result, or that it went unused.
  caf::reacts_to<request_completed>,
  // Push every later transition to the listener.
  caf::reacts_to<caf::subscribe_atom, breaker_listener>,
  // Breaker state and pacer figures.
  caf::replies_to<caf::get_atom>::with<gate_status>,
  // Internal: pacing and open-timeout timer with its generation.
  caf::reacts_to<timer_atom, std::uint64_t>,
  // The cluster paused the backend (a 429 seen on some node).
  caf::reacts_to<cluster_pause>,
  // The cluster's authority, found again after it was lost: leases come
  // from it again (the fallback share ends with its first grant).
  caf::reacts_to<caf::put_atom, budget_authority_actor>,
  // A live change of the backend's declared request rate: flow control
  // starts again from it (what is in flight and Retry-After carry over).
  caf::reacts_to<reconfigure_atom, double>>;

// -- resource sampler ---------------------------------------------------------

/// Anyone who wants resource snapshots and alerts broadcast to it.
using resource_listener = caf::typed_actor<
  // One sampling period's reading (shared, not copied, per subscriber).
  caf::reacts_to<resource_snapshot>,
  // A threshold crossed or cleared for its sustained duration.
  caf::reacts_to<resource_alert>>;

/// Samples CPU, memory, network and disk on a period.
using resource_sampler_actor = caf::typed_actor<
  // Broadcast every later snapshot and alert to the listener.
  caf::reacts_to<caf::subscribe_atom, resource_listener>,
  // Stop broadcasting to the listener.
  caf::reacts_to<caf::unsubscribe_atom, resource_listener>,
  // The latest snapshot.
  caf::replies_to<caf::get_atom>::with<resource_snapshot>,
  // Trend per resource over the configured window.
  caf::replies_to<trends_atom>::with<resource_trends>,
  // Trend per resource over the last N seconds (at most an hour).
  caf::replies_to<trends_atom, double>::with<resource_trends>,
  // Recommendations from the current readings and trends.
  caf::replies_to<recommend_atom>::with<std::vector<recommendation>>,
  // Alerts currently raised.
  caf::replies_to<alerts_atom>::with<std::vector<resource_alert>>,
  // Internal: the sampling period with its generation.
  caf::reacts_to<timer_atom, std::uint64_t>>;

// -- batcher ------------------------------------------------------------------

/// One per operation type: queues, sizes, paces, retries, reports outcomes.
using batcher_actor = caf::typed_actor<
  // Queue a job's operations.
  caf::reacts_to<enqueue_atom, work_items>,
  // The gate granted a permit: send the next batch (or return it unused).
  caf::reacts_to<permit_atom, std::uint64_t>,
  // Cancel a job's operations that are still queued.
  caf::reacts_to<cancel_atom, std::uint64_t>,
  // Current figures for the dashboard.
  caf::replies_to<metrics_atom>::with<batching_metrics>,
  // The backend's breaker changed state.
  caf::reacts_to<breaker_state_changed>,
  // Resource readings (a listener; sizing reacts to sustained alerts).
  caf::reacts_to<resource_snapshot>,
  // Resource alerts: warning and critical pressure shrink batches.
  caf::reacts_to<resource_alert>,
  // From the optimizer: alternate the two arms' strategies per sample
  // window for the test's length, reporting each window's goodput.
  caf::reacts_to<ab_start_atom, std::string, ab_test_config>,
  // A live change of the type's strategy and bounds.
  caf::reacts_to<reconfigure_atom, sizing_change>,
  // From the supervisor: the backend's executor was restarted.
  caf::reacts_to<caf::put_atom, executor_actor>,
  // From the supervisor: the backend's gate was restarted (a permit asked
  // of the old one is asked again).
  caf::reacts_to<caf::put_atom, circuit_breaker_actor>,
  // Internal: linger, pacing and retry timers with their generation.
  caf::reacts_to<timer_atom, std::uint64_t>>;

/// Whoever receives a batcher's operation events (the coordinator).
using events_listener = caf::typed_actor<
  // Operations sent, requeued and finished since the last report.
  caf::reacts_to<operation_events>>;

/// A worker node's offer to the coordinator: the batchers it hosts.
struct worker_registration {
  std::string node;
  std::map<std::string, batcher_actor> batchers; // by operation type

  bool operator==(const worker_registration&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_registration& x) {
  return f(caf::meta::type_name("worker_registration"), x.node, x.batchers);
}

// -- journal ------------------------------------------------------------------

/// Makes accepted jobs durable (docs/durability.md); one per runtime that
/// has a journal, on a thread of its own (it waits for the disk).
using journal_actor = caf::typed_actor<
  // Write an admitted job; answers its id once the journal holds it (group
  // commit), or journal_unavailable.
  caf::replies_to<submit_atom, std::uint64_t,
                  job_submission>::with<std::uint64_t>,
  // Operations' outcomes (only `finished` is read).
  caf::reacts_to<operation_events>,
  // A job ended (its final status).
  caf::reacts_to<job_status>,
  // Answers once everything received before it is written (or failed).
  caf::replies_to<drain_atom>::with<bool>,
  // Internal: write what is buffered, with its generation.
  caf::reacts_to<timer_atom, std::uint64_t>>;

// -- coordinator --------------------------------------------------------------

/// Admits jobs, tracks every operation, answers status and the dashboard.
using coordinator_actor = caf::typed_actor<
  // Admit a job whole or reject it whole; answers the job id.
  caf::replies_to<submit_atom, job_submission>::with<std::uint64_t>,
  // A live change of max_concurrent_jobs (halved again while a critical
  // alert lasts); answers when applied.
  caf::replies_to<reconfigure_atom, std::uint32_t>::with<bool>,
  // Where a job stands.
  caf::replies_to<status_atom, std::uint64_t>::with<job_status>,
  // Cancel a job's unfinished operations; answers its status.
  caf::replies_to<cancel_atom, std::uint64_t>::with<job_status>,
  // The whole system's figures.
  caf::replies_to<dashboard_atom>::with<dashboard>,
  // Wiring: the batcher of an operation type (at start, and from the
  // supervisor after a restart: what the dead one held is placed again).
  caf::reacts_to<caf::put_atom, std::string, batcher_actor>,
  // From the supervisor: a backend's gate was restarted (the dashboard's).
  caf::reacts_to<caf::put_atom, std::string, circuit_breaker_actor>,
  // From the supervisor: it restarted an actor (role, name), counted in
  // the dashboard.
  caf::reacts_to<restart_atom, std::string, std::string>,
  // Answers when the job has finished (or the request times out).
  caf::replies_to<wait_atom, std::uint64_t>::with<job_status>,
  // Answers when no operation is unfinished (or the request times out).
  caf::replies_to<drain_atom>::with<std::uint64_t>,
  // Cancels every unfinished job; answers how many jobs that touched.
  caf::replies_to<stop_atom>::with<std::uint64_t>,
  // A batcher's events: operations sent, requeued and finished (each
  // operation finishes exactly once).
  caf::reacts_to<operation_events>,
  // Observe: every operation's final outcome, as operation_events holding
  // only `finished` (load generators, the simulator's recorder).
  caf::reacts_to<caf::subscribe_atom, events_listener>,
  // Resource readings (the dashboard's resources).
  caf::reacts_to<resource_snapshot>,
  // Resource alerts (critical halves max_concurrent_jobs until cleared).
  caf::reacts_to<resource_alert>,
  // A worker node offers its batchers (monitored: its work moves to the
  // other nodes when it is lost); answers the node's number.
  caf::replies_to<join_atom, worker_registration>::with<std::uint32_t>>;

// -- supervisor ---------------------------------------------------------------

/// Restarts the executors, gates and batchers of a topology when they die
/// (actors/supervisor_actor.hpp).
using supervisor_actor = caf::typed_actor<
  // The current actor of a role: "executor" or "gate" by backend, "batcher"
  // by operation type; invalid when there is none (or its restart waits).
  caf::replies_to<caf::get_atom, std::string, std::string>::with<caf::actor>,
  // A live change of a type's sizing: kept for its restarts, forwarded to
  // its batcher (answers when forwarded).
  caf::replies_to<reconfigure_atom, std::string, sizing_change>::with<bool>,
  // A live change of a backend's declared rate: kept for its gate's
  // restarts, forwarded to the gate.
  caf::replies_to<reconfigure_atom, std::string, double>::with<bool>,
  // Internal: the delayed restart of a child, by its number.
  caf::reacts_to<timer_atom, std::uint64_t>>;

/// What a node finds at a cluster's published address: the budget
/// authority, and the coordinator when that node runs one (else invalid).
struct cluster_directory {
  budget_authority_actor authority;
  coordinator_actor coordinator;

  bool operator==(const cluster_directory&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_directory& x) {
  return f(caf::meta::type_name("cluster_directory"), x.authority,
           x.coordinator);
}

/// The actor published at a cluster node's address (docs/deployment.md).
using cluster_entry_actor = caf::typed_actor<
  // Answers the directory to a joining node (its name).
  caf::replies_to<join_atom, std::string>::with<cluster_directory>>;

// -- optimizer ----------------------------------------------------------------

/// One operation type's model (runtime/model/response_model.hpp), owned
/// and restarted by the optimizer; training runs here, off the batchers.
using model_actor = caf::typed_actor<
  // Train on these samples (replacing the model if they suffice).
  caf::replies_to<train_atom, std::vector<training_sample>>::with<model_report>,
  // The batch size that best meets the target (confidence 0 untrained).
  caf::replies_to<predict_atom, prediction_request>::with<prediction>>;

/// Learns batch size from samples with supervised model actors; A/B tests.
using optimizer_actor = caf::typed_actor<
  // One observation from a batcher.
  caf::reacts_to<training_sample>,
  // predict_optimal_batch_size(features, target).
  caf::replies_to<predict_atom, prediction_request>::with<prediction>,
  // Totals, confidence, model scores, importances, recommendations.
  caf::replies_to<insights_atom>::with<optimizer_insights>,
  // Start an A/B test; answers its id.
  caf::replies_to<ab_start_atom, ab_test_config>::with<std::string>,
  // Record one result: test id, whether from the test arm, the score.
  caf::reacts_to<ab_record_atom, std::string, bool, double>,
  // Analyze an A/B test.
  caf::replies_to<ab_analyze_atom, std::string>::with<ab_test_result>,
  // Wiring: the batcher of an operation type (A/B tests split its traffic).
  caf::reacts_to<caf::put_atom, std::string, batcher_actor>,
  // Trains the type's model on the samples held (now, or once the
  // training under way ends); answers its report (an error when too few
  // samples are held).
  caf::replies_to<train_atom, std::string>::with<model_report>,
  // The model actor of an operation type (diagnostics, supervision tests).
  caf::replies_to<caf::get_atom, std::string>::with<model_actor>>;

// -- load generator -----------------------------------------------------------

/// Plays one workload stream (runtime/policy/workload.hpp) into the
/// coordinator through its public protocol, on the actor clock (virtual
/// under the deterministic scheduler, real otherwise).
using load_generator_actor = caf::typed_actor<
  // Play arrivals for this many seconds; answers when every submission of
  // the run has been answered.
  caf::replies_to<play_atom, double>::with<play_report>,
  // Internal: the next arrival is due.
  caf::reacts_to<timer_atom, std::uint64_t>>;

} // namespace batching
