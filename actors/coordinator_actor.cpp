#include "actors/coordinator_actor.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/wakeup.hpp"
#include "messages/error.hpp"
#include "runtime/policy/job_ledger.hpp"
#include "runtime/policy/work_placement.hpp"

namespace batching {

namespace {

/// How long the dashboard waits for each batcher and gate.
constexpr auto dashboard_timeout = std::chrono::seconds{5};

/// This node's own batchers; worker nodes are numbered from 2.
constexpr work_placement::node_id local_node = 1;

/// Smallest share of a job sent to one node when it is spread: large
/// enough that one message carries many operations (caf-0.17-notes.md §8).
constexpr std::uint64_t min_chunk = 500;

error_code code_of(job_ledger::refusal r) {
  switch (r) {
    case job_ledger::refusal::empty_job: return error_code::empty_job;
    case job_ledger::refusal::unknown_operation_type:
      return error_code::unknown_operation_type;
    case job_ledger::refusal::queue_full: return error_code::queue_full;
    default: return error_code::none;
  }
}

struct coordinator_state {
  static inline const char* name = "coordinator";

  explicit coordinator_state(
    coordinator_actor::stateful_pointer<coordinator_state> self)
    : self(self) {
    // nop
  }

  coordinator_actor::stateful_pointer<coordinator_state> self;
  coordinator_config cfg;
  coordinator_wiring wiring;
  /// Each node's batchers by operation type (local_node: this node's).
  std::map<work_placement::node_id, std::map<std::string, batcher_actor>> nodes;
  std::map<caf::actor_addr, work_placement::node_id> node_of; // batchers
  work_placement::node_id next_node = local_node + 1;
  work_placement placement{min_chunk};
  std::uint32_t lost_nodes = 0;
  std::uint64_t restarts = 0; // actors the supervisor restarted
  std::uint64_t stale_events = 0;
  std::optional<job_ledger> ledger;
  /// Waiting jobs, and the operations of running jobs that are (or may be
  /// again) on other nodes: what a lost node's work is rebuilt from.
  std::unordered_map<std::uint64_t, work_items> pending;
  std::set<std::uint64_t> cancelling;
  std::unordered_map<std::uint64_t,
                     std::vector<caf::typed_response_promise<job_status>>>
    waiters;
  std::vector<caf::typed_response_promise<std::uint64_t>> drains;
  std::vector<events_listener> observers; // get every finished operation
  resource_snapshot latest;
  std::optional<time_point> last_prune;
  std::array<std::optional<resource_alert>, 4> alerts;
  /// Restored jobs: which operations had an outcome before the restart
  /// (never sent again).
  std::unordered_map<std::uint64_t, std::vector<bool>> recorded;
  /// Stopping: the journal keeps what it holds (nothing more is written).
  bool journal_off = false;

  bool journaling() const { return wiring.journal && !journal_off; }

  void init(coordinator_config config, coordinator_wiring w) {
    cfg = config;
    wiring = std::move(w);
    std::set<std::string> types;
    for (const auto& [type, _] : wiring.backend_of)
      types.insert(type);
    ledger.emplace(
      job_ledger::config{cfg.max_concurrent_jobs, cfg.max_queued_operations},
      std::move(types));
    ledger->reserve_ids_below(wiring.next_job_id);
    auto now = now_of(self);
    for (auto& r : wiring.restored) {
      if (!ledger->restore(r.job_id, r.op_type, r.prio, r.states, now, r.end,
                           r.last_error)
          || r.end)
        continue;
      work_items w;
      w.job_id = r.job_id;
      w.prio = r.prio;
      if (r.deadline_left)
        w.deadline = now + std::max(*r.deadline_left, duration{1});
      w.operations = std::move(r.operations);
      std::vector<bool> had(r.states.size());
      for (std::size_t i = 0; i < had.size(); ++i)
        had[i] = is_terminal(r.states[i]);
      recorded.emplace(r.job_id, std::move(had));
      pending.emplace(r.job_id, std::move(w));
    }
    wiring.restored.clear();
  }

  caf::result<std::uint64_t> on_submit(job_submission& js) {
    auto now = now_of(self);
    auto admitted = ledger->admit(js.op_type, js.prio, js.operations.size(),
                                  now, journaling());
    if (admitted.job_id == 0)
      return make_error(code_of(admitted.reason), admitted.message);
    auto id = admitted.job_id;
    work_items w;
    w.job_id = id;
    w.prio = js.prio;
    if (js.deadline > duration{0})
      w.deadline = now + js.deadline;
    if (!journaling()) {
      w.operations = std::move(js.operations);
      pending.emplace(id, std::move(w));
      start_jobs(now);
      return id;
    }
    // Held until the journal holds it: only then may it start and be
    // acknowledged.
    w.operations = js.operations;
    pending.emplace(id, std::move(w));
    auto rp = self->make_response_promise<std::uint64_t>();
    self
      ->request(wiring.journal, caf::infinite, submit_atom::value, id,
                std::move(js))
      .then(
        [this, id, rp](std::uint64_t) mutable {
          if (ledger->release(id))
            start_jobs(now_of(self));
          rp.deliver(id);
        },
        [this, id, rp](caf::error& err) mutable {
          ledger->withdraw(id);
          pending.erase(id);
          if (batching::code_of(err) == error_code::none)
            err = make_error(error_code::journal_unavailable,
                             "the journal did not answer");
          rp.deliver(std::move(err));
        });
    return rp;
  }

  void start_jobs(time_point now) {
    for (auto id : ledger->start(now)) {
      auto it = pending.find(id);
      if (it == pending.end())
        continue;
      auto type = ledger->status(id, now)->op_type;
      placement.add_job(id, type, it->second.operations.size());
      auto chunks = placement.place(id);
      // The operations stay in `pending` until the job finishes, also when
      // they all go to this node: a batcher that dies loses its copy.
      dispatch(chunks);
    }
  }

  /// Sends each chunk's operations to its node's batcher (copies: the
  /// operations stay in `pending` until the job finishes).
  void dispatch(const std::vector<work_placement::chunk>& chunks) {
    for (const auto& c : chunks) {
      auto it = pending.find(c.job_id);
      if (it == pending.end())
        continue; // finished meanwhile
      if (cancelling.count(c.job_id)) {
        // Placed again after a loss while the job is being cancelled:
        // cancelled here instead of sent.
        operation_events events;
        for (auto i = c.first; i < c.first + c.count; ++i)
          if (placement.finish(c.node, {c.job_id, i}))
            events.finished.push_back(cancelled(it->second, i));
        apply(events); // may finish the job (and drop it from `pending`)
        continue;
      }
      const auto& job = it->second;
      auto type = ledger->status(c.job_id, now_of(self))->op_type;
      const auto& to = nodes.at(c.node).at(type);
      auto send_run = [&](std::uint64_t first, std::uint64_t count) {
        work_items w;
        w.job_id = c.job_id;
        w.prio = job.prio;
        w.deadline = job.deadline;
        w.first_index = first;
        auto from = job.operations.begin() + static_cast<std::ptrdiff_t>(first);
        w.operations.assign(from, from + static_cast<std::ptrdiff_t>(count));
        self->send(to, enqueue_atom::value, std::move(w));
      };
      auto had = recorded.find(c.job_id);
      if (had == recorded.end()) {
        send_run(c.first, c.count);
        continue;
      }
      // A restored job: runs of operations without an outcome; those with
      // one are finished in the placement at once.
      auto end = c.first + c.count;
      for (auto i = c.first; i < end;) {
        if (had->second[i]) {
          placement.finish(c.node, {c.job_id, i});
          ++i;
          continue;
        }
        auto j = i;
        while (j < end && !had->second[j])
          ++j;
        send_run(i, j - i);
        i = j;
      }
    }
  }

  /// The event of operation `index` of `job` cancelled by the coordinator.
  static operation_finished cancelled(const work_items& job,
                                      std::uint64_t index) {
    return {job.operations[index].id,
            job.job_id,
            index,
            operation_state::cancelled,
            0,
            duration{0},
            "cancelled"};
  }

  /// Finishes as cancelled the operations of a job that are on no node.
  void cancel_unsent(std::uint64_t id) {
    auto it = pending.find(id);
    if (it == pending.end())
      return;
    operation_events events;
    auto had = recorded.find(id);
    for (auto index : placement.take_unplaced(id))
      if (had == recorded.end() || !had->second[index])
        events.finished.push_back(cancelled(it->second, index));
    if (!events.finished.empty())
      apply(events);
  }

  /// The node behind the sender of a batcher's events (this node's own for
  /// senders never registered).
  work_placement::node_id sender_node() {
    auto it
      = node_of.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
    return it == node_of.end() ? local_node : it->second;
  }

  /// Drops what does not come from the operations' current holder
  /// (in place: this runs for every batcher report).
  void keep_from_holder(operation_events& events,
                        work_placement::node_id node) {
    auto before
      = events.sent.size() + events.requeued.size() + events.finished.size();
    auto stale = [&](const op_ref& ref) { return !placement.holds(node, ref); };
    std::erase_if(events.sent, stale);
    std::erase_if(events.requeued, stale);
    std::erase_if(events.finished, [&](const operation_finished& f) {
      return !placement.finish(node, {f.job_id, f.index});
    });
    stale_events += before
                    - (events.sent.size() + events.requeued.size()
                       + events.finished.size());
  }

  /// A node's batchers registered and monitored; its share of the work
  /// follows.
  std::uint32_t on_join(worker_registration& reg) {
    auto id = next_node++;
    std::set<std::string> types;
    for (auto& [type, batcher] : reg.batchers) {
      if (!wiring.backend_of.count(type))
        continue; // a type this cluster does not run
      types.insert(type);
      node_of[batcher.address()] = id;
      self->monitor(batcher);
      nodes[id][type] = std::move(batcher);
    }
    placement.add_node(id, std::move(types));
    dispatch(placement.place_all());
    return id;
  }

  /// A worker's batcher is gone (crash, kill, or a frozen connection timed
  /// out): every operation the node held goes to the survivors.
  void on_down(const caf::down_msg& dm) {
    auto it = node_of.find(dm.source);
    if (it == node_of.end() || !placement.live(it->second))
      return;
    auto id = it->second;
    ++lost_nodes;
    nodes.erase(id);
    auto back = placement.lose(id);
    ledger->requeue_lost(back);
    dispatch(placement.place_all());
  }

  /// This node's batcher of `type`, at start or restarted by the
  /// supervisor: what its predecessor held (it died; every report it sent
  /// came before this message) is placed again, on the new one.
  void on_batcher(const std::string& type, batcher_actor batcher) {
    auto& mine = nodes[local_node];
    if (auto old = mine.find(type); old != mine.end() && old->second != batcher)
      ledger->requeue_lost(placement.lose(local_node, type));
    mine[type] = std::move(batcher);
    placement.add_node(local_node, {type});
    dispatch(placement.place_all());
    // Restored jobs wait for their batchers.
    start_jobs(now_of(self));
  }

  void on_events(operation_events& events) {
    keep_from_holder(events, sender_node());
    apply(events);
  }

  void apply(const operation_events& events) {
    auto now = now_of(self);
    if ((!observers.empty() || journaling()) && !events.finished.empty()) {
      operation_events finished;
      finished.finished = events.finished;
      for (auto& o : observers)
        self->send(o, finished);
      if (journaling())
        self->send(wiring.journal, std::move(finished));
    }
    for (auto id : ledger->apply(events, now))
      job_finished(id, now);
    start_jobs(now);
    prune(now);
    if (ledger->unfinished_operations() == 0) {
      for (auto& rp : drains)
        rp.deliver(std::uint64_t{0});
      drains.clear();
    }
  }

  /// Forgets jobs finished longer than the retention ago (at most once a
  /// second: it scans every job).
  void prune(time_point now) {
    if (last_prune && now - *last_prune < std::chrono::seconds{1})
      return;
    last_prune = now;
    ledger->forget_finished_before(
      now - from_seconds(cfg.finished_job_retention_seconds));
  }

  void job_finished(std::uint64_t id, time_point now) {
    placement.forget(id);
    pending.erase(id);
    cancelling.erase(id);
    recorded.erase(id);
    if (journaling())
      self->send(wiring.journal, *ledger->status(id, now));
    auto it = waiters.find(id);
    if (it == waiters.end())
      return;
    auto status = *ledger->status(id, now);
    for (auto& rp : it->second)
      rp.deliver(status);
    waiters.erase(it);
  }

  caf::result<job_status> on_status(std::uint64_t id) {
    if (auto s = ledger->status(id, now_of(self)))
      return *s;
    return make_error(error_code::unknown_job, "no job " + std::to_string(id));
  }

  caf::result<job_status> on_wait(std::uint64_t id) {
    auto s = ledger->status(id, now_of(self));
    if (!s)
      return make_error(error_code::unknown_job,
                        "no job " + std::to_string(id));
    if (s->succeeded + s->failed + s->cancelled == s->total)
      return *s;
    auto rp = self->make_response_promise<job_status>();
    waiters[id].push_back(rp);
    return rp;
  }

  caf::result<job_status> on_cancel(std::uint64_t id) {
    auto now = now_of(self);
    bool running = false;
    if (!ledger->cancel(id, now, running)) {
      if (!ledger->known(id))
        return make_error(error_code::unknown_job,
                          "no job " + std::to_string(id));
      return make_error(error_code::job_finished,
                        "job " + std::to_string(id) + " already finished");
    }
    auto status = *ledger->status(id, now);
    if (running) {
      cancelling.insert(id);
      for (const auto& [_, batchers] : nodes)
        if (auto b = batchers.find(status.op_type); b != batchers.end())
          self->send(b->second, cancel_atom::value, id);
      cancel_unsent(id);
      status = *ledger->status(id, now);
    } else {
      pending.erase(id);
      job_finished(id, now);
      start_jobs(now);
    }
    return status;
  }

  std::uint64_t on_stop() {
    journal_off = true;
    auto ids = ledger->unfinished_jobs();
    for (auto id : ids)
      on_cancel(id);
    return ids.size();
  }

  caf::result<std::uint64_t> on_drain() {
    if (ledger->unfinished_operations() == 0)
      return std::uint64_t{0};
    auto rp = self->make_response_promise<std::uint64_t>();
    drains.push_back(rp);
    return rp;
  }

  void on_alert(const resource_alert& alert) {
    auto& slot = alerts[static_cast<std::size_t>(alert.resource)];
    if (alert.level == alert_level::cleared)
      slot.reset();
    else
      slot = alert;
    apply_concurrency();
  }

  /// max_concurrent_jobs, halved while a critical alert lasts (the seed's
  /// reaction); starts what the limit now admits.
  void apply_concurrency() {
    bool critical = std::any_of(alerts.begin(), alerts.end(), [](auto& a) {
      return a && a->level == alert_level::critical;
    });
    ledger->set_concurrency_limit(
      critical ? std::max<std::uint32_t>(1, cfg.max_concurrent_jobs / 2)
               : cfg.max_concurrent_jobs);
    start_jobs(now_of(self));
  }

  caf::typed_response_promise<dashboard> on_dashboard() {
    struct gather {
      dashboard d;
      std::size_t outstanding = 0;
      std::map<std::string, gate_status> gates;
    };
    auto rp = self->make_response_promise<dashboard>();
    auto g = std::make_shared<gather>();
    auto now = now_of(self);
    g->d.at = now;
    g->d.coordinator
      = {ledger->running_jobs(),
         ledger->waiting_jobs(),
         ledger->finished_jobs(),
         ledger->concurrency_limit(),
         ledger->unfinished_operations(),
         ledger->violations(),
         static_cast<std::uint32_t>(nodes.size() - nodes.count(local_node)),
         lost_nodes,
         stale_events,
         restarts};
    g->d.resources = latest;
    for (const auto& a : alerts)
      if (a)
        g->d.active_alerts.push_back(*a);
    const auto& batchers = nodes[local_node];
    g->outstanding = batchers.size() + wiring.gates.size();
    auto done = [this, g, rp]() mutable {
      if (--g->outstanding > 0)
        return;
      finish_dashboard(g->d, g->gates);
      rp.deliver(std::move(g->d));
    };
    for (const auto& [type, batcher] : batchers)
      self->request(batcher, dashboard_timeout, metrics_atom::value)
        .then(
          [g, done](batching_metrics& m) mutable {
            g->d.batching.push_back(std::move(m));
            done();
          },
          [done](caf::error&) mutable { done(); });
    for (const auto& [backend, gate] : wiring.gates)
      self->request(gate, dashboard_timeout, caf::get_atom::value)
        .then(
          [g, done, backend = backend](gate_status& s) mutable {
            g->gates[backend] = s;
            done();
          },
          [done](caf::error&) mutable { done(); });
    if (g->outstanding == 0) {
      finish_dashboard(g->d, g->gates);
      rp.deliver(std::move(g->d));
    }
    return rp;
  }

  void finish_dashboard(dashboard& d,
                        const std::map<std::string, gate_status>& gates) {
    std::sort(d.batching.begin(), d.batching.end(),
              [](auto& a, auto& b) { return a.op_type < b.op_type; });
    std::uint64_t ok = 0, failed = 0;
    double latency_sum = 0;
    for (auto& m : d.batching) {
      if (auto it = gates.find(wiring.backend_of[m.op_type]);
          it != gates.end()) {
        m.request_rate = it->second.request_rate;
        m.breaker = it->second.breaker;
        m.circuit_breaker_active = m.breaker != breaker_state::closed;
      }
      ok += m.succeeded;
      failed += m.failed;
      latency_sum += m.average_latency_ms * static_cast<double>(m.succeeded);
      d.performance.average_throughput += m.average_throughput;
    }
    d.performance.average_latency_ms = ok > 0 ? latency_sum / ok : 0;
    d.performance.success_rate
      = ok + failed > 0 ? static_cast<double>(ok) / (ok + failed) : 1.0;
    d.performance.system_cpu_usage = d.resources.cpu_percent;
    d.performance.system_memory_usage = d.resources.memory_percent;
  }
};

coordinator_actor::behavior_type
coordinator_impl(coordinator_actor::stateful_pointer<coordinator_state> self,
                 coordinator_config cfg, coordinator_wiring wiring) {
  self->state.init(cfg, std::move(wiring));
  self->set_down_handler(
    [self](caf::down_msg& dm) { self->state.on_down(dm); });
  return {
    [=](submit_atom, job_submission& js) { return self->state.on_submit(js); },
    [=](reconfigure_atom, std::uint32_t max_concurrent_jobs) {
      self->state.cfg.max_concurrent_jobs = std::max(1u, max_concurrent_jobs);
      self->state.apply_concurrency();
      return true;
    },
    [=](status_atom, std::uint64_t id) { return self->state.on_status(id); },
    [=](cancel_atom, std::uint64_t id) { return self->state.on_cancel(id); },
    [=](dashboard_atom) { return self->state.on_dashboard(); },
    [=](caf::put_atom, const std::string& type, batcher_actor batcher) {
      self->state.on_batcher(type, std::move(batcher));
    },
    [=](caf::put_atom, const std::string& backend, circuit_breaker_actor g) {
      self->state.wiring.gates[backend] = std::move(g);
    },
    [=](restart_atom, const std::string&, const std::string&) {
      ++self->state.restarts;
    },
    [=](wait_atom, std::uint64_t id) { return self->state.on_wait(id); },
    [=](drain_atom) { return self->state.on_drain(); },
    [=](stop_atom) { return self->state.on_stop(); },
    [=](operation_events& events) { self->state.on_events(events); },
    [=](caf::subscribe_atom, events_listener who) {
      self->state.observers.push_back(std::move(who));
    },
    [=](const resource_snapshot& snap) { self->state.latest = snap; },
    [=](const resource_alert& alert) { self->state.on_alert(alert); },
    [=](join_atom, worker_registration& reg) {
      return self->state.on_join(reg);
    },
  };
}

} // namespace

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    coordinator_config cfg,
                                    coordinator_wiring wiring) {
  return sys.spawn(coordinator_impl, cfg, std::move(wiring));
}

} // namespace batching
