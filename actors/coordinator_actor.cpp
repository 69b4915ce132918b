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

namespace batching {

namespace {

/// How long the dashboard waits for each batcher and gate.
constexpr auto dashboard_timeout = std::chrono::seconds{5};

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
  std::map<std::string, batcher_actor> batchers;
  std::optional<job_ledger> ledger;
  std::unordered_map<std::uint64_t, work_items> pending; // waiting jobs
  std::unordered_map<std::uint64_t,
                     std::vector<caf::typed_response_promise<job_status>>>
    waiters;
  std::vector<caf::typed_response_promise<std::uint64_t>> drains;
  std::vector<events_listener> observers; // get every finished operation
  resource_snapshot latest;
  std::optional<time_point> last_prune;
  std::array<std::optional<resource_alert>, 4> alerts;

  void init(coordinator_config config, coordinator_wiring w) {
    cfg = config;
    wiring = std::move(w);
    std::set<std::string> types;
    for (const auto& [type, _] : wiring.backend_of)
      types.insert(type);
    ledger.emplace(
      job_ledger::config{cfg.max_concurrent_jobs, cfg.max_queued_operations},
      std::move(types));
  }

  caf::result<std::uint64_t> on_submit(job_submission& js) {
    auto now = now_of(self);
    auto admitted
      = ledger->admit(js.op_type, js.prio, js.operations.size(), now);
    if (admitted.job_id == 0)
      return make_error(code_of(admitted.reason), admitted.message);
    work_items w;
    w.job_id = admitted.job_id;
    w.prio = js.prio;
    if (js.deadline > duration{0})
      w.deadline = now + js.deadline;
    w.operations = std::move(js.operations);
    pending.emplace(admitted.job_id, std::move(w));
    start_jobs(now);
    return admitted.job_id;
  }

  void start_jobs(time_point now) {
    for (auto id : ledger->start(now)) {
      auto it = pending.find(id);
      if (it == pending.end())
        continue;
      auto type = ledger->status(id, now)->op_type;
      self->send(batchers.at(type), enqueue_atom::value, std::move(it->second));
      pending.erase(it);
    }
  }

  void on_events(const operation_events& events) {
    auto now = now_of(self);
    if (!observers.empty() && !events.finished.empty()) {
      operation_events finished;
      finished.finished = events.finished;
      for (auto& o : observers)
        self->send(o, finished);
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
      self->send(batchers.at(status.op_type), cancel_atom::value, id);
    } else {
      pending.erase(id);
      job_finished(id, now);
      start_jobs(now);
    }
    return status;
  }

  std::uint64_t on_stop() {
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
    bool critical = std::any_of(alerts.begin(), alerts.end(), [](auto& a) {
      return a && a->level == alert_level::critical;
    });
    // The seed's reaction: halve concurrent jobs while critical.
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
      = {ledger->running_jobs(),          ledger->waiting_jobs(),
         ledger->finished_jobs(),         ledger->concurrency_limit(),
         ledger->unfinished_operations(), ledger->violations()};
    g->d.resources = latest;
    for (const auto& a : alerts)
      if (a)
        g->d.active_alerts.push_back(*a);
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
  return {
    [=](submit_atom, job_submission& js) { return self->state.on_submit(js); },
    [=](status_atom, std::uint64_t id) { return self->state.on_status(id); },
    [=](cancel_atom, std::uint64_t id) { return self->state.on_cancel(id); },
    [=](dashboard_atom) { return self->state.on_dashboard(); },
    [=](caf::put_atom, const std::string& type, batcher_actor batcher) {
      self->state.batchers[type] = std::move(batcher);
    },
    [=](wait_atom, std::uint64_t id) { return self->state.on_wait(id); },
    [=](drain_atom) { return self->state.on_drain(); },
    [=](stop_atom) { return self->state.on_stop(); },
    [=](const operation_events& events) { self->state.on_events(events); },
    [=](caf::subscribe_atom, events_listener who) {
      self->state.observers.push_back(std::move(who));
    },
    [=](const resource_snapshot& snap) { self->state.latest = snap; },
    [=](const resource_alert& alert) { self->state.on_alert(alert); },
  };
}

} // namespace

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    coordinator_config cfg,
                                    coordinator_wiring wiring) {
  return sys.spawn(coordinator_impl, cfg, std::move(wiring));
}

} // namespace batching
