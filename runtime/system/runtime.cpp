#include "runtime/system/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/budget_authority_actor.hpp"
#include "actors/executor_actor.hpp"
#include "actors/journal_actor.hpp"
#include "actors/load_generator_actor.hpp"
#include "config/loader.hpp"
#include "messages/error.hpp"
#include "messages/registration.hpp"
#include "runtime/policy/batch_engine.hpp"
#include "runtime/policy/http_mapping.hpp"
#include "runtime/storage/job_journal.hpp"
#include "runtime/system/cluster_link.hpp"
#include "runtime/system/dashboard_json.hpp"
#include "runtime/system/metrics_text.hpp"
#include "runtime/system/runtime_actors.hpp"

namespace batching {

namespace {

struct system_config : caf::actor_system_config {
  system_config(std::size_t threads, const cluster_config& cluster) {
    set("scheduler.max-threads", threads);
    set("logger.verbosity", caf::atom("quiet"));
    register_types(*this);
    if (cluster.role != cluster_role::none)
      prepare_cluster_config(*this, cluster);
  }
};

std::string default_node_name() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return std::string{host} + ":" + std::to_string(::getpid());
}

/// Throws std::invalid_argument when the cluster settings cannot work.
void check_runtime_cluster(const cluster_config& c) {
  if (c.role == cluster_role::authority)
    throw std::invalid_argument(
      "cluster.role authority runs as `batching node --role authority`, "
      "not inside a runtime");
  if (auto problem = check_cluster(c); !problem.empty())
    throw std::invalid_argument(problem);
}

/// Opens the journal of `cfg` and reads what it holds: the coordinator's
/// restored jobs, and what of them is unfinished in `recovered` (throws
/// std::runtime_error naming the file and the reason).
journal_link open_journal(const journal_config& cfg,
                          std::shared_ptr<job_journal>& journal,
                          runtime::recovery& recovered) {
  journal_link link;
  journal_contents held;
  try {
    journal = std::make_shared<job_journal>(cfg.path, cfg.sync);
    held = journal->load();
  } catch (const journal_error& e) {
    journal.reset();
    throw std::runtime_error(e.what());
  }
  link.next_job_id = held.next_job_id;
  recovered = {0, held.unfinished_operations};
  auto now_ms = journal_clock_ms();
  for (auto& j : held.jobs) {
    restored_job r;
    r.job_id = j.id;
    r.op_type = std::move(j.op_type);
    r.prio = j.prio;
    if (j.deadline_ms != 0)
      r.deadline_left = std::chrono::milliseconds{j.deadline_ms - now_ms};
    if (j.finished) {
      // Only its counts are kept: states to match them.
      r.states.assign(j.succeeded, operation_state::succeeded);
      r.states.insert(r.states.end(), j.failed, operation_state::failed);
      r.states.insert(r.states.end(), j.cancelled, operation_state::cancelled);
      r.end = j.state;
      r.last_error = std::move(j.last_error);
    } else {
      ++recovered.jobs;
      r.operations = std::move(j.operations);
      r.states = std::move(j.states);
    }
    link.restored.push_back(std::move(r));
  }
  return link;
}

struct executor_spec {
  enum class kind { blocking, inline_call, async } how = kind::blocking;
  sync_callback sync;
  async_callback async;
  std::size_t workers = 4;
};

} // namespace

/// What an error says for a host: our errors' own text, else CAF's
/// rendering (a timeout, a dead actor).
std::string message_of(caf::actor_system& sys, const caf::error& err) {
  if (err.category() == error_category
      && err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  return sys.render(err);
}

struct runtime::impl {
  runtime_config cfg;
  /// Guards `cfg` once running: live changes replace it while others read.
  mutable std::mutex cfg_lock;
  std::vector<std::string> types; // cfg's operation types, sorted
  options opts;
  std::map<std::string, executor_spec> executor_specs;
  std::vector<std::function<void(const resource_alert&)>> alert_callbacks;
  std::unique_ptr<system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  topology topo;
  std::vector<caf::actor> others;        // executors, the alert listener
  std::shared_ptr<completion_gate> gate; // closed before the system dies
  std::atomic<bool> is_running{false};
  std::uint16_t port = 0; // published on, as a coordinator
  journal_actor journal;  // invalid: none
  runtime::recovery recovered;
  // Calls hold it shared; start() and the teardown in stop() exclusively,
  // so no call ever uses an actor system that stop() is destroying.
  std::shared_mutex lifecycle;
  /// A worker node's topology once it rejoined a coordinator (`topo` is the
  /// first one's): replaced from the worker link's thread, stopped by the
  /// teardown, hence its own lock.
  struct rejoined_worker {
    std::mutex lock;
    std::optional<topology> topo;
    bool stopping = false;
  };
  std::shared_ptr<rejoined_worker> worker = std::make_shared<rejoined_worker>();

  void require_running(const char* what) const {
    if (!is_running)
      throw std::logic_error(std::string{"batching::runtime::"} + what
                             + ": the runtime is not running");
  }

  /// Stops every actor and destroys the actor system (stop(), and a
  /// start() that failed half-way).
  void teardown() {
    {
      std::lock_guard<std::mutex> guard{worker->lock};
      worker->stopping = true;
      if (worker->topo)
        worker->topo->shutdown();
      worker->topo.reset();
    }
    topo.shutdown();
    for (auto& a : others)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    others.clear();
    if (journal)
      caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
    journal = journal_actor{};
    topo = topology{};
    port = 0;
    // A host callback that never returns must not hang the host:
    // completions from now on go nowhere, and its thread is abandoned (it
    // ends when the callback does).
    if (gate)
      gate->close();
    sys.reset();
    sys_cfg.reset();
  }

  /// Offers this worker node's batchers to the cluster's coordinator and
  /// watches it: when it is lost, this node's work stops (it was moved, or
  /// went with the coordinator), on_coordinator_lost is called, and the
  /// node registers fresh batchers with the coordinator it finds at the
  /// address again (a restarted one replays its journal and places its
  /// work anew).
  void register_worker(const std::string& node) {
    caf::error err;
    auto id = call<std::uint32_t>(topo.coordinator, opts.call_timeout, err,
                                  join_atom::value,
                                  worker_registration{node, topo.batchers});
    if (!id)
      throw std::runtime_error("the coordinator did not take this worker: "
                               + sys->render(err));
    worker_hooks hooks;
    hooks.lost = [w = worker, first = topo, lost = opts.on_coordinator_lost] {
      {
        std::lock_guard<std::mutex> guard{w->lock};
        first.shutdown(); // again after the first loss: harmless
        if (w->topo)
          w->topo->shutdown();
        w->topo.reset();
      }
      if (lost)
        lost();
    };
    hooks.rebuild = [this, w = worker, node](const cluster_directory& dir) {
      cluster_membership as_worker{dir.authority, node, dir.coordinator};
      auto t = spawn_topology(*sys, cfg, spawn_executors(), nullptr, opts.seed,
                              as_worker);
      std::lock_guard<std::mutex> guard{w->lock};
      if (w->stopping) { // stop() began meanwhile
        t.shutdown();
        return std::map<std::string, batcher_actor>{};
      }
      w->topo = t;
      return t.batchers;
    };
    hooks.rejoined = opts.on_coordinator_rejoined;
    if (!hooks.rejoined)
      hooks.rejoined = [](std::uint32_t) {};
    others.push_back(spawn_worker_link(*sys, cfg.cluster.join, node,
                                       cfg.cluster, topo.coordinator,
                                       std::move(hooks)));
  }

  /// One executor per configured backend, each spawned again by the
  /// supervisor when it dies (the host's callback stays the same).
  std::map<std::string, executor_source> spawn_executors() {
    std::map<std::string, executor_source> executors;
    for (const auto& [backend, spec] : executor_specs) {
      auto spawn = [sys = sys.get(), spec = spec, gate = gate] {
        switch (spec.how) {
          case executor_spec::kind::blocking:
            return spawn_blocking_executor(*sys, spec.sync, spec.workers, gate);
          case executor_spec::kind::inline_call:
            return spawn_inline_executor(*sys, spec.sync);
          default: return spawn_async_executor(*sys, spec.async, gate);
        }
      };
      executors.emplace(
        backend, executor_source{std::function<executor_actor()>{spawn}});
    }
    return executors;
  }

  /// A blocking request with a fresh scoped_actor (a long-lived one
  /// accumulates stale timeouts, caf-0.17-notes §10).
  template <class R, class Handle, class... Ts>
  std::optional<R> call(const Handle& h, duration timeout, caf::error& err,
                        Ts&&... xs) {
    caf::scoped_actor self{*sys};
    std::optional<R> result;
    self->request(h, caf::duration{timeout}, std::forward<Ts>(xs)...)
      .receive([&](R& r) { result = std::move(r); },
               [&](caf::error& e) { err = std::move(e); });
    return result;
  }
};

runtime::runtime(runtime_config cfg) : runtime(std::move(cfg), options{}) {
  // nop
}

runtime::runtime(runtime_config cfg, options opts)
  : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(cfg);
  for (const auto& [type, _] : impl_->cfg.operation_configs)
    impl_->types.push_back(type); // a std::map's keys: sorted
  impl_->opts = std::move(opts);
}

std::unique_ptr<runtime>
runtime::from_files(const std::vector<std::string>& files,
                    const std::string& environment, std::string& errors,
                    options opts) {
  auto loaded = config::load(config::from_paths(files), environment);
  if (!loaded.ok()) {
    errors.clear();
    for (const auto& d : loaded.errors)
      errors += d.to_string() + '\n';
    return nullptr;
  }
  return std::make_unique<runtime>(std::move(loaded.config), std::move(opts));
}

runtime::~runtime() { stop(std::chrono::seconds{1}); }

void runtime::set_executor(const std::string& backend, sync_callback fn,
                           std::size_t workers) {
  impl_->executor_specs[backend]
    = {executor_spec::kind::blocking, std::move(fn), {}, workers};
}

void runtime::set_inline_executor(const std::string& backend,
                                  sync_callback fn) {
  impl_->executor_specs[backend]
    = {executor_spec::kind::inline_call, std::move(fn), {}, 0};
}

void runtime::set_async_executor(const std::string& backend,
                                 async_callback fn) {
  impl_->executor_specs[backend]
    = {executor_spec::kind::async, {}, std::move(fn), 0};
}

void runtime::on_alert(std::function<void(const resource_alert&)> callback) {
  impl_->alert_callbacks.push_back(std::move(callback));
}

void runtime::start() {
  auto& d = *impl_;
  std::unique_lock<std::shared_mutex> guard{d.lifecycle};
  if (d.is_running)
    return;
  // Everything that can fail is checked before any actor exists.
  for (const auto& [type, op] : d.cfg.operation_configs) {
    if (!d.cfg.backends.count(op.backend))
      throw std::invalid_argument("operation type '" + type + "' uses backend '"
                                  + op.backend + "', which is not configured");
    if (!d.executor_specs.count(op.backend))
      throw std::invalid_argument("no executor for backend '" + op.backend
                                  + "' (used by operation type '" + type
                                  + "'); call set_executor first");
  }
  auto threads = d.opts.threads;
  if (threads == 0)
    threads = std::max(2u, std::thread::hardware_concurrency());
  const auto& cluster_cfg = d.cfg.cluster;
  check_runtime_cluster(cluster_cfg);
  d.sys_cfg = std::make_unique<system_config>(threads, cluster_cfg);
  d.sys = std::make_unique<caf::actor_system>(*d.sys_cfg);
  cluster_membership cluster;
  if (cluster_cfg.role != cluster_role::none) {
    cluster.node
      = cluster_cfg.node.empty() ? default_node_name() : cluster_cfg.node;
    try {
      if (cluster_cfg.role == cluster_role::coordinator) {
        cluster.authority
          = spawn_budget_authority(*d.sys, authority_config(d.cfg));
        d.others.push_back(caf::actor_cast<caf::actor>(cluster.authority));
      } else {
        auto dir
          = join_cluster(*d.sys, cluster_cfg.join, cluster.node, cluster_cfg);
        cluster.authority = dir.authority;
        if (cluster_cfg.role == cluster_role::worker) {
          if (!dir.coordinator)
            throw std::runtime_error("the node at " + cluster_cfg.join
                                     + " runs no coordinator (workers join "
                                       "a coordinator node)");
          cluster.coordinator = dir.coordinator;
        }
      }
    } catch (...) {
      d.teardown();
      throw;
    }
  }
  d.gate = std::make_shared<completion_gate>();
  auto executors = d.spawn_executors();
  for (const auto& [_, e] : executors)
    d.others.push_back(caf::actor_cast<caf::actor>(e.actor));
  std::shared_ptr<resource_probe> probe;
  if (d.opts.sample_resources)
    probe = make_linux_probe(d.opts.proc_root);
  journal_link journal;
  // A worker's jobs are its coordinator's: only a node with its own
  // coordinator keeps a journal.
  if (!d.cfg.journal.path.empty() && cluster_cfg.role != cluster_role::worker) {
    std::shared_ptr<job_journal> store;
    try {
      journal = open_journal(d.cfg.journal, store, d.recovered);
    } catch (...) {
      d.teardown();
      throw;
    }
    d.journal = spawn_journal(*d.sys, std::move(store),
                              {d.cfg.journal.retention_seconds});
    journal.journal = d.journal;
  }
  d.topo = spawn_topology(*d.sys, d.cfg, executors, probe, d.opts.seed, cluster,
                          std::move(journal));
  try {
    if (cluster_cfg.role == cluster_role::coordinator) {
      auto entry
        = spawn_cluster_entry(*d.sys, {cluster.authority, d.topo.coordinator});
      d.others.push_back(caf::actor_cast<caf::actor>(entry));
      d.port = publish_entry(*d.sys, entry, cluster_cfg.listen, cluster_cfg);
    }
    if (cluster_cfg.role == cluster_role::worker)
      d.register_worker(cluster.node);
    if (cluster_cfg.role == cluster_role::member && cluster.authority) {
      std::vector<circuit_breaker_actor> gates;
      for (const auto& [_, g] : d.topo.gates)
        gates.push_back(g);
      d.others.push_back(spawn_rejoiner(*d.sys, cluster_cfg.join, cluster.node,
                                        cluster_cfg, cluster.authority,
                                        std::move(gates)));
    }
  } catch (...) {
    d.teardown();
    throw;
  }
  if (d.topo.sampler && !d.alert_callbacks.empty()) {
    auto callbacks = d.alert_callbacks;
    auto listener = d.sys->spawn([callbacks](resource_listener::pointer)
                                   -> resource_listener::behavior_type {
      return {
        [](const resource_snapshot&) {},
        [callbacks](const resource_alert& a) {
          for (const auto& cb : callbacks)
            cb(a);
        },
      };
    });
    caf::anon_send(d.topo.sampler, caf::subscribe_atom::value, listener);
    d.others.push_back(caf::actor_cast<caf::actor>(listener));
  }
  d.is_running = true;
}

bool runtime::running() const { return impl_->is_running; }

std::uint16_t runtime::cluster_port() const { return impl_->port; }

runtime::recovery runtime::recovered() const { return impl_->recovered; }

play_report runtime::play_load(const std::vector<workload_plan>& streams,
                               duration length,
                               const std::function<void(double)>& each_second,
                               std::uint64_t seed) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("play_load");
  caf::scoped_actor self{*d.sys};
  std::vector<load_generator_actor> generators;
  for (std::size_t w = 0; w < streams.size(); ++w)
    for (std::uint32_t u = 0; u < std::max(1u, streams[w].users); ++u) {
      load_generator_config gc;
      gc.coordinator = d.topo.coordinator;
      gc.plan = streams[w];
      gc.user = u;
      gc.seed = seed + w;
      // Ids far above what hosts and serve use: 2^36 per generator.
      gc.id_base = (std::uint64_t{1} << 62) + (((w << 16) + u + 1) << 36);
      generators.push_back(spawn_load_generator(*d.sys, gc));
    }
  using handle = decltype(self->request(generators.front(), caf::infinite,
                                        play_atom::value, 0.0));
  std::vector<handle> plays;
  auto seconds = to_seconds(length);
  for (auto& g : generators)
    plays.push_back(self->request(g, caf::infinite, play_atom::value, seconds));
  auto started = std::chrono::steady_clock::now();
  for (double t = 1; t <= std::ceil(seconds); ++t) {
    std::this_thread::sleep_until(started + from_seconds(t));
    if (each_second)
      each_second(t);
  }
  play_report total;
  for (auto& p : plays)
    p.receive(
      [&](play_report& r) {
        total.jobs += r.jobs;
        total.operations += r.operations;
        total.rejected_operations += r.rejected_operations;
      },
      [](caf::error&) {});
  for (auto& g : generators)
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  return total;
}

const std::vector<std::string>& runtime::operation_types() const {
  return impl_->types;
}

bool runtime::has_operation_type(const std::string& type) const {
  return std::binary_search(impl_->types.begin(), impl_->types.end(), type);
}

runtime_config runtime::config() const {
  std::lock_guard<std::mutex> guard{impl_->cfg_lock};
  return impl_->cfg;
}

std::optional<std::vector<config::live_change>>
runtime::update_config(const runtime_config& next, std::string* error) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("update_config");
  auto fail
    = [&](std::string why) -> std::optional<std::vector<config::live_change>> {
    if (error)
      *error = std::move(why);
    return std::nullopt;
  };
  // One change at a time: the diff is against what is in effect.
  static std::mutex one_at_a_time;
  std::lock_guard<std::mutex> serial{one_at_a_time};
  auto running = config();
  auto diff = config::diff_live(running, next);
  if (!diff.refused.empty()) {
    std::string keys;
    for (const auto& k : diff.refused)
      keys += (keys.empty() ? "" : ", ") + k;
    std::string live;
    for (const auto& k : config::live_keys())
      live += (live.empty() ? "" : ", ") + k;
    return fail("only " + live + " change while running; " + keys
                + " need a restart");
  }
  if (diff.changes.empty())
    return diff.changes;
  caf::error err;
  auto timeout = d.opts.call_timeout;
  // The supervisor keeps a change for restarts and forwards it; a worker
  // node's batchers are not supervised: to the local actor `name` then.
  auto forward
    = [&](const auto& local, const std::string& name, const auto& change) {
        auto kept = d.call<bool>(d.topo.supervisor, timeout, err,
                                 reconfigure_atom::value, name, change);
        if (kept && *kept)
          return true;
        auto it = local.find(name);
        if (it == local.end())
          return false;
        caf::anon_send(it->second, reconfigure_atom::value, change);
        return true;
      };
  if (next.coordinator.max_concurrent_jobs
        != running.coordinator.max_concurrent_jobs
      && !d.topo.remote_coordinator
      && !d.call<bool>(d.topo.coordinator, timeout, err,
                       reconfigure_atom::value,
                       next.coordinator.max_concurrent_jobs))
    return fail("the coordinator did not apply the change: "
                + message_of(*d.sys, err));
  for (const auto& [type, _] : next.operation_configs) {
    auto before = batch_engine::from_settings(running, type, 0);
    auto after = batch_engine::from_settings(next, type, 0);
    if (before.strategy == after.strategy && before.sizing.lo == after.sizing.lo
        && before.sizing.hi == after.sizing.hi
        && before.sizing.preferred == after.sizing.preferred)
      continue;
    sizing_change c{after.strategy,         after.sizing.lo, after.sizing.hi,
                    after.sizing.preferred, after.learn,     after.sample};
    if (!forward(d.topo.batchers, type, c))
      return fail("no batcher of '" + type + "' on this node");
  }
  for (const auto& [name, be] : next.backends) {
    auto rate = be.initial_requests_per_second;
    if (rate == running.backends.at(name).initial_requests_per_second)
      continue;
    if (!forward(d.topo.gates, name, rate))
      return fail("no gate of '" + name + "' on this node");
  }
  {
    std::lock_guard<std::mutex> lock{d.cfg_lock};
    d.cfg = next;
  }
  for (const auto& c : diff.changes)
    std::cerr << "batching: live change: " << c.key << ": " << c.from << " -> "
              << c.to << '\n';
  return diff.changes;
}

submit_result runtime::submit_job(const std::string& op_type,
                                  std::vector<operation> operations,
                                  priority prio, duration deadline) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  if (!d.is_running)
    return {0, error_code::shutting_down, "the runtime is not running"};
  caf::error err;
  job_submission js{op_type, prio, std::move(operations), deadline};
  auto id = d.call<std::uint64_t>(d.topo.coordinator, d.opts.call_timeout, err,
                                  submit_atom::value, std::move(js));
  if (id)
    return {*id, error_code::none, {}};
  auto code = code_of(err);
  return {0, code == error_code::none ? error_code::bad_request : code,
          message_of(*d.sys, err)};
}

std::optional<job_status> runtime::status(std::uint64_t job_id) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("status");
  caf::error err;
  return d.call<job_status>(d.topo.coordinator, d.opts.call_timeout, err,
                            status_atom::value, job_id);
}

std::optional<job_status> runtime::wait(std::uint64_t job_id,
                                        duration timeout) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("wait");
  caf::error err;
  auto done = d.call<job_status>(d.topo.coordinator, timeout, err,
                                 wait_atom::value, job_id);
  if (done || code_of(err) == error_code::unknown_job)
    return done;
  // Timed out: where it stands now.
  return d.call<job_status>(d.topo.coordinator, d.opts.call_timeout, err,
                            status_atom::value, job_id);
}

std::optional<job_status> runtime::cancel(std::uint64_t job_id) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("cancel");
  caf::error err;
  return d.call<job_status>(d.topo.coordinator, d.opts.call_timeout, err,
                            cancel_atom::value, job_id);
}

std::optional<prediction>
runtime::predict_optimal_batch_size(const std::string& op_type,
                                    const feature_vector& features,
                                    const optimization_target& target) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("predict_optimal_batch_size");
  caf::error err;
  return d.call<prediction>(d.topo.optimizer, d.opts.call_timeout, err,
                            predict_atom::value,
                            prediction_request{op_type, features, target});
}

void runtime::add_training_data(const std::vector<training_sample>& samples) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("add_training_data");
  for (const auto& s : samples)
    caf::anon_send(d.topo.optimizer, s);
}

std::optional<model_report> runtime::train(const std::string& op_type,
                                           std::string* error) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("train");
  caf::error err;
  // A training of thousands of samples takes a while (~1 s per 10,000).
  auto report = d.call<model_report>(
    d.topo.optimizer,
    std::max(d.opts.call_timeout, duration{std::chrono::seconds{60}}), err,
    train_atom::value, op_type);
  if (!report && error)
    *error = message_of(*d.sys, err);
  return report;
}

std::optional<optimizer_insights> runtime::optimization_insights() {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("optimization_insights");
  caf::error err;
  return d.call<optimizer_insights>(d.topo.optimizer, d.opts.call_timeout, err,
                                    insights_atom::value);
}

std::optional<std::string> runtime::start_ab_test(const ab_test_config& test,
                                                  std::string* error) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("start_ab_test");
  caf::error err;
  auto id = d.call<std::string>(d.topo.optimizer, d.opts.call_timeout, err,
                                ab_start_atom::value, test);
  if (!id && error)
    *error = message_of(*d.sys, err);
  return id;
}

void runtime::record_ab_test_result(const std::string& test_id, bool test_arm,
                                    double score) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("record_ab_test_result");
  caf::anon_send(d.topo.optimizer, ab_record_atom::value, test_id, test_arm,
                 score);
}

std::optional<ab_test_result>
runtime::analyze_ab_test(const std::string& test_id) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("analyze_ab_test");
  caf::error err;
  return d.call<ab_test_result>(d.topo.optimizer, d.opts.call_timeout, err,
                                ab_analyze_atom::value, test_id);
}

// The coordinator's dashboard, or nothing and why in `err`.
template <class Impl>
std::optional<dashboard> fetch_dashboard(Impl& d, const char* what,
                                         caf::error& err) {
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running(what);
  return d.template call<batching::dashboard>(
    d.topo.coordinator, d.opts.call_timeout, err, dashboard_atom::value);
}

boost::json::value runtime::dashboard() {
  caf::error err;
  auto board = fetch_dashboard(*impl_, "dashboard", err);
  if (!board)
    return boost::json::object{{"error", impl_->sys->render(err)}};
  return to_json(*board);
}

std::string runtime::metrics_text() {
  caf::error err;
  auto board = fetch_dashboard(*impl_, "metrics_text", err);
  if (!board)
    return {};
  if (!samples_resources())
    return prometheus_text(*board);
  auto t = trends(from_seconds(config().sampling.trend_window_seconds));
  auto recs = recommendations();
  return prometheus_text(*board, t,
                         recs.value_or(std::vector<recommendation>{}));
}

bool runtime::samples_resources() const {
  return static_cast<bool>(impl_->topo.sampler);
}

std::optional<std::vector<recommendation>> runtime::recommendations() {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("recommendations");
  if (!d.topo.sampler)
    return std::vector<recommendation>{};
  caf::error err;
  return d.call<std::vector<recommendation>>(
    d.topo.sampler, d.opts.call_timeout, err, recommend_atom::value);
}

std::optional<resource_trends> runtime::trends(duration window) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.lifecycle};
  d.require_running("trends");
  if (!d.topo.sampler)
    return resource_trends{};
  caf::error err;
  return d.call<resource_trends>(d.topo.sampler, d.opts.call_timeout, err,
                                 trends_atom::value, to_seconds(window));
}

bool runtime::stop(duration drain_timeout) {
  auto& d = *impl_;
  caf::error err;
  bool drained = false;
  {
    std::shared_lock<std::shared_mutex> guard{d.lifecycle};
    if (!d.is_running)
      return true;
    // A worker's coordinator is the cluster's: a worker leaving neither
    // drains nor cancels its jobs; what it held moves to the other nodes.
    drained = d.topo.remote_coordinator
              || d.call<std::uint64_t>(d.topo.coordinator, drain_timeout, err,
                                       drain_atom::value)
                   .has_value();
  }
  // Calls in progress finish first (each is bounded by its timeout).
  std::unique_lock<std::shared_mutex> guard{d.lifecycle};
  if (!d.is_running)
    return drained; // another thread stopped it meanwhile
  d.is_running = false;
  if (!drained)
    d.call<std::uint64_t>(d.topo.coordinator, d.opts.call_timeout, err,
                          stop_atom::value);
  // What the journal was told before the stop is written before it ends
  // (the cancellations of the stop itself are not: those jobs run again).
  if (d.journal)
    d.call<bool>(d.journal, d.opts.call_timeout, err, drain_atom::value);
  d.teardown();
  return drained;
}

caf::actor_system& system_of(runtime& rt) { return *internals(rt).sys; }

const topology& actors_of(runtime& rt) { return internals(rt).topo; }

runtime::impl& internals(runtime& rt) { return *rt.impl_; }

} // namespace batching
