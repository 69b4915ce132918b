#include "sim/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <unordered_set>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/load_generator_actor.hpp"
#include "actors/wakeup.hpp"
#include "messages/registration.hpp"
#include "runtime/system/topology.hpp"
#include "sim/backend.hpp"
#include "sim/delayed_executor.hpp"
#include "sim/virtual_time.hpp"

namespace batching::sim {

namespace {

/// Real time for load tests and the demo: the threaded scheduler.
struct real_time_config : caf::actor_system_config {
  real_time_config() {
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
    register_types(*this);
  }
};

/// What the recorder saw: every operation's final outcome.
struct record {
  time_point start;
  std::vector<double> latencies_ms; // every finished operation
  std::vector<std::vector<double>> per_second_ms;
  std::vector<double> succeeded_per_second;
  std::vector<double> finished_per_second; // any final state
  std::vector<double> arrived_per_second;  // by submission time
  std::unordered_set<std::uint64_t> finished_ids;
  std::vector<std::uint64_t> succeeded_ids; // checked against the backend
  std::uint64_t finished_twice = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t succeeded_in_time = 0; // by the end of the arrivals
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  double duration_s = 0;
  struct per_stream {
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::vector<double> latencies_ms;
  };
  std::map<std::size_t, per_stream> streams; // by workload index
};

/// Operation ids carry their workload stream (see the generators' id_base).
std::size_t stream_of(std::uint64_t id) { return (id >> 36) >> 16; }

events_listener::behavior_type recorder_impl(events_listener::pointer self,
                                             std::shared_ptr<record> rec) {
  return {
    [=](const operation_events& ev) {
      auto t = to_seconds(now_of(self) - rec->start);
      auto second = static_cast<std::size_t>(std::max(0.0, t));
      if (rec->per_second_ms.size() <= second) {
        rec->per_second_ms.resize(second + 1);
        rec->succeeded_per_second.resize(second + 1);
        rec->finished_per_second.resize(second + 1);
        rec->arrived_per_second.resize(second + 1);
      }
      for (const auto& f : ev.finished) {
        if (!rec->finished_ids.insert(f.operation_id).second)
          ++rec->finished_twice;
        rec->finished_per_second[second] += 1;
        auto submitted = std::max(0.0, t - to_seconds(f.latency));
        rec->arrived_per_second[static_cast<std::size_t>(submitted)] += 1;
        if (f.state == operation_state::cancelled) {
          ++rec->cancelled;
          continue;
        }
        auto ms = to_seconds(f.latency) * 1000;
        rec->latencies_ms.push_back(ms);
        rec->per_second_ms[second].push_back(ms);
        auto& stream = rec->streams[stream_of(f.operation_id)];
        stream.latencies_ms.push_back(ms);
        if (f.state == operation_state::succeeded) {
          rec->succeeded_ids.push_back(f.operation_id);
          ++stream.succeeded;
          ++rec->succeeded;
          rec->succeeded_per_second[second] += 1;
          if (t <= rec->duration_s)
            ++rec->succeeded_in_time;
        } else {
          ++stream.failed;
          ++rec->failed;
        }
      }
    },
  };
}

double quantile(std::vector<double>& xs, double q) {
  if (xs.empty())
    return 0;
  auto k = static_cast<std::size_t>(
    std::min<double>(xs.size() - 1, std::ceil(q * xs.size()) - 1));
  std::nth_element(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(k),
                   xs.end());
  return xs[k];
}

double mean_payload(const scenario& sc) {
  double weight = 0, sum = 0;
  for (const auto& w : sc.workload) {
    auto r = std::max(w.rate, 1e-9);
    weight += r;
    sum += r * (w.payload_bytes.min_bytes + w.payload_bytes.max_bytes) / 2;
  }
  return weight > 0 ? sum / weight : 0;
}

/// Items/s the workload offers at t (bursts spread over their period).
double offered(const scenario& sc, double t) {
  double total = 0;
  for (const auto& w : sc.workload) {
    arrival_process p{w, 0, 0, 0};
    total += p.rate_at(t);
    if (w.arrival == arrival_kind::bursts)
      total += w.burst_items / w.burst_every_s;
  }
  return total;
}

/// Per change: the time from the change until goodput settles.
///   achievable(w) = capacity over w when a backlog of more than w's
///                   offered load waits at its start, else min(capacity,
///                   offered load) over w (simulator truth, nominal rates);
///   good(w): succeeded(w) + B >= 0.9 achievable(w), B = one request's
///            items (completions come a request at a time), and fewer than
///            1% of w's requests throttled, for 5 s windows w;
///   settled at k: every window starting in [k, k + 30 s) is good (or up
///   to the next change / the end of arrivals, when sooner).
std::vector<std::optional<double>>
convergence(const scenario& sc, const record& rec,
            const std::vector<double>& requests,
            const std::vector<double>& throttled) {
  constexpr std::size_t window = 5, settle = 30;
  auto seconds
    = std::min<std::size_t>({static_cast<std::size_t>(sc.duration_s),
                             rec.succeeded_per_second.size(), requests.size()});
  // backlog[k]: arrived before second k and not finished before it.
  std::vector<double> backlog(seconds + 1, 0);
  double arrived = 0, finished = 0;
  for (std::size_t k = 0; k < seconds; ++k) {
    backlog[k] = arrived - finished;
    arrived
      += k < rec.arrived_per_second.size() ? rec.arrived_per_second[k] : 0;
    finished
      += k < rec.finished_per_second.size() ? rec.finished_per_second[k] : 0;
  }
  // Per second: the backend's capacity and the offered load (simulator
  // truth), then whether the 5 s window starting there is good.
  simulated_backend truth{sc.backend, 0, time_point{}};
  auto payload = mean_payload(sc);
  std::vector<double> capacity(seconds), load(seconds);
  for (std::size_t s = 0; s < seconds; ++s) {
    auto mid = static_cast<double>(s) + 0.5;
    capacity[s] = truth.capacity(mid, payload);
    load[s] = offered(sc, mid);
  }
  auto quantum = static_cast<double>(sc.backend.max_items_per_request);
  std::vector<bool> good(seconds, false);
  for (std::size_t k = 0; k + window <= seconds; ++k) {
    double g = 0, cap = 0, in = 0, req = 0, thr = 0;
    for (std::size_t s = k; s < k + window; ++s) {
      g += rec.succeeded_per_second[s];
      cap += capacity[s];
      in += load[s];
      req += requests[s];
      thr += throttled[s];
    }
    double achievable = backlog[k] > in ? cap : std::min(cap, in);
    good[k] = g + quantum >= 0.9 * achievable && (req == 0 || thr / req < 0.01);
  }
  auto changes = change_times(sc);
  std::vector<std::optional<double>> result;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto from = static_cast<std::size_t>(std::ceil(changes[i]));
    auto to = i + 1 < changes.size()
                ? static_cast<std::size_t>(std::floor(changes[i + 1]))
                : seconds;
    to = std::min(to, seconds);
    std::optional<double> settled;
    for (std::size_t k = from; k + window <= to && !settled; ++k) {
      auto last = std::min(k + settle, to - window + 1);
      bool all = true;
      for (std::size_t j = k; j < last && all; ++j)
        all = good[j];
      if (all)
        settled = static_cast<double>(k) - changes[i];
    }
    result.push_back(settled ? std::optional<double>{std::max(0.0, *settled)}
                             : std::nullopt);
  }
  return result;
}

} // namespace

std::vector<double> change_times(const scenario& sc) {
  std::vector<double> times;
  for (const auto& c : sc.backend.changes)
    times.push_back(c.at_s);
  for (const auto& o : sc.backend.outages)
    times.push_back(o.to_s);
  for (const auto& w : sc.workload)
    for (const auto& p : w.phases)
      times.push_back(p.at_s);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  std::erase_if(times,
                [&](double t) { return t <= 0 || t >= sc.duration_s - 1; });
  return times;
}

run_result run_strategy(const scenario& sc, const strategy_spec& s,
                        const run_options& opts) {
  auto wall_start = std::chrono::steady_clock::now();
  run_result r;
  r.strategy = s.name;
  std::unique_ptr<caf::actor_system_config> cfg;
  if (opts.real_time)
    cfg = std::make_unique<real_time_config>();
  else
    cfg = std::make_unique<deterministic_config>();
  auto sys_ptr = std::make_unique<caf::actor_system>(*cfg);
  auto& sys = *sys_ptr;
  // Virtual time: the test coordinator, moved by hand. Real time: the
  // threaded scheduler; the runner sleeps instead.
  auto* sched
    = dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler());
  auto run_pending = [&] {
    if (sched)
      sched->run();
  };
  auto start = sys.clock().now();
  auto backend
    = std::make_shared<simulated_backend>(sc.backend, sc.seed, start);
  auto rec = std::make_shared<record>();
  rec->start = start;
  rec->duration_s = sc.duration_s;
  std::uint64_t held = 0;
  std::vector<double> requests_at, throttled_at;
  { // Every actor handle lives in this block, gone before the system.
    std::vector<caf::actor> spawned;
    // The backend outlives its executor: one the supervisor restarts
    // serves the same simulated backend.
    executor_source exec{std::function<executor_actor()>{[backend, &sys] {
      return spawn_delayed_executor(sys, [backend, &sys](const batch& b) {
        auto a = backend->serve(b, sys.clock().now());
        return a.lost ? std::nullopt : std::optional<delayed_answer>{a};
      });
    }}};
    spawned.push_back(caf::actor_cast<caf::actor>(exec.actor));
    auto topo = spawn_topology(sys, runtime_config_for(sc, s),
                               {{default_backend, exec}}, nullptr, sc.seed);
    auto recorder = sys.spawn(recorder_impl, rec);
    spawned.push_back(caf::actor_cast<caf::actor>(recorder));
    caf::anon_send(topo.coordinator, caf::subscribe_atom::value,
                   events_listener{recorder});
    caf::scoped_actor self{sys};
    std::vector<load_generator_actor> generators;
    for (std::size_t w = 0; w < sc.workload.size(); ++w)
      for (std::uint32_t u = 0; u < std::max(1u, sc.workload[w].users); ++u) {
        load_generator_config gc;
        gc.coordinator = topo.coordinator;
        gc.plan = sc.workload[w];
        gc.user = u;
        gc.seed = sc.seed + w;
        gc.id_base = ((w << 16) + u + 1) << 36; // 2^36 ids per generator
        auto g = spawn_load_generator(sys, gc);
        spawned.push_back(caf::actor_cast<caf::actor>(g));
        generators.push_back(g);
      }
    // The generators answer when their arrivals are over; the answers wait
    // in this scoped actor's mailbox until the run has ended.
    using play_handle = decltype(self->request(
      generators.front(), caf::infinite, play_atom::value, 0.0));
    std::vector<play_handle> plays;
    for (auto& g : generators)
      plays.push_back(
        self->request(g, caf::infinite, play_atom::value, sc.duration_s));
    auto total = sc.duration_s + sc.drain_s;
    // The supervisor's current actor of a role (a killed one is replaced).
    auto current = [&](const std::string& role, const std::string& name) {
      caf::actor a;
      auto rh = self->request(topo.supervisor, caf::infinite,
                              caf::get_atom::value, role, name);
      run_pending();
      rh.receive([&](caf::actor& x) { a = std::move(x); }, [](caf::error&) {});
      return a;
    };
    std::uint64_t last_requests = 0, last_throttled = 0, last_accepted = 0;
    auto sample = [&](double t) {
      requests_at.push_back(
        static_cast<double>(backend->requests() - last_requests));
      throttled_at.push_back(
        static_cast<double>(backend->throttled() - last_throttled));
      last_requests = backend->requests();
      last_throttled = backend->throttled();
      if (!opts.series)
        return;
      series_point p;
      p.t_s = t;
      p.goodput
        = static_cast<double>(backend->accepted_items() - last_accepted);
      last_accepted = backend->accepted_items();
      p.requests = requests_at.back();
      p.throttled = throttled_at.back();
      for (const auto& [type, _] : topo.batchers) {
        auto b = caf::actor_cast<batcher_actor>(current("batcher", type));
        if (!b)
          continue; // its restart waits
        auto rh = self->request(b, caf::infinite, metrics_atom::value);
        run_pending();
        rh.receive(
          [&](batching_metrics& m) {
            p.batch_size[type] = m.current_batch_size;
            p.queued += m.queue_depth;
            p.queued_by_type[type] = m.queue_depth;
          },
          [](caf::error&) {});
      }
      for (const auto& [backend, _] : topo.gates) {
        auto g
          = caf::actor_cast<circuit_breaker_actor>(current("gate", backend));
        if (!g)
          continue;
        auto rh = self->request(g, caf::infinite, caf::get_atom::value);
        run_pending();
        rh.receive(
          [&](gate_status& st) {
            p.in_flight += st.in_flight;
            p.request_rate += st.request_rate;
          },
          [](caf::error&) {});
      }
      r.series.push_back(std::move(p));
    };
    auto is_idle = [&] {
      auto rh
        = self->request(topo.coordinator, caf::infinite, dashboard_atom::value);
      run_pending();
      bool idle = false;
      rh.receive(
        [&](dashboard& d) { idle = d.coordinator.queued_operations == 0; },
        [](caf::error&) {});
      return idle;
    };
    double at = 0; // simulated time reached
    auto step_to = [&](double x) {
      if (sched)
        advance_clock(*sched, from_seconds(x - at));
      else
        std::this_thread::sleep_until(wall_start + from_seconds(x));
      at = x;
    };
    // Kills (in time order) between the one-second steps.
    auto deaths = sc.actor_deaths;
    std::stable_sort(deaths.begin(), deaths.end(),
                     [](auto& a, auto& b) { return a.at_s < b.at_s; });
    std::size_t next_death = 0;
    auto kill = [&](const actor_death& d) {
      // What may reach the backend twice: every request in flight then.
      auto gate = caf::actor_cast<circuit_breaker_actor>(
        current("gate", default_backend));
      if (gate) {
        auto rh = self->request(gate, caf::infinite, caf::get_atom::value);
        run_pending();
        rh.receive(
          [&](gate_status& st) {
            r.exposed_items += st.in_flight * sc.backend.max_items_per_request;
          },
          [](caf::error&) {});
      }
      std::vector<std::string> names;
      if (d.actor != supervised_role::batcher)
        names = {default_backend};
      else if (!d.op_type.empty())
        names = {d.op_type};
      else
        for (const auto& [type, _] : topo.batchers)
          names.push_back(type);
      for (const auto& name : names)
        if (auto victim = current(to_string(d.actor), name)) {
          caf::anon_send_exit(victim, caf::exit_reason::kill);
          ++r.actor_deaths;
        }
      run_pending();
    };
    double t = 0;
    while (t < total) {
      t += 1;
      for (; next_death < deaths.size() && deaths[next_death].at_s < t;
           ++next_death) {
        step_to(std::max(at, deaths[next_death].at_s));
        kill(deaths[next_death]);
      }
      step_to(t);
      sample(t);
      if (opts.progress)
        opts.progress(t, total,
                      r.series.empty() ? series_point{} : r.series.back());
      if (t > sc.duration_s && is_idle())
        break;
    }
    // A restart still waiting (a crash loop backs off up to 30 s) is
    // waited for.
    if (r.actor_deaths > 0 && sched)
      step_to(at + 30);
    // What the runtime still holds after the drain (queued or in flight)
    // is unfinished, not lost: lost is what neither finished nor is held.
    {
      auto rh
        = self->request(topo.coordinator, caf::infinite, dashboard_atom::value);
      run_pending();
      rh.receive(
        [&](dashboard& d) {
          held = d.coordinator.queued_operations;
          r.actor_restarts = d.coordinator.actor_restarts;
        },
        [](caf::error&) {});
    }
    if (s.sizing == strategy_kind::ml) {
      auto rh
        = self->request(topo.optimizer, caf::infinite, insights_atom::value);
      run_pending();
      rh.receive([&](optimizer_insights& in) { r.insights = std::move(in); },
                 [](caf::error&) {});
    }
    for (auto& rh : plays)
      rh.receive(
        [&](play_report& rep) {
          r.submitted += rep.operations;
          r.rejected += rep.rejected_operations;
        },
        [](caf::error&) {});
    // Tear down: stop every actor, then let the delayed messages to the dead
    // fire so ~actor_system does not wait for them.
    topo.shutdown();
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    if (sched) {
      sched->run();
      while (sched->clock().trigger_timeout())
        sched->run();
    }
  } // actor handles
  // Joins the scheduler's threads in real time: the recorder's figures
  // are read only after this.
  sys_ptr.reset();
  r.succeeded = rec->succeeded;
  r.failed = rec->failed;
  r.unfinished = held;
  auto accounted = rec->finished_ids.size() + held;
  r.lost = r.submitted > accounted ? r.submitted - accounted : 0;
  // Against the backend's own record: an operation the runtime reported
  // succeeded that the backend never accepted is lost too.
  for (auto id : rec->succeeded_ids)
    if (!backend->has_accepted(id))
      ++r.lost;
  r.duplicated = backend->duplicated() + rec->finished_twice;
  r.late_answers = backend->late_answers();
  r.late_items = backend->late_items();
  r.finished_twice = rec->finished_twice;
  r.requests = backend->requests();
  r.throttled = backend->throttled();
  r.oversized = backend->oversized();
  r.throttle_rate = r.requests ? double(r.throttled) / r.requests : 0;
  r.goodput = rec->succeeded_in_time / sc.duration_s;
  r.p50_ms = quantile(rec->latencies_ms, 0.50);
  r.p95_ms = quantile(rec->latencies_ms, 0.95);
  r.p99_ms = quantile(rec->latencies_ms, 0.99);
  r.slo_met = r.p99_ms <= sc.slo.p99_latency_ms && r.unfinished == 0;
  auto& per_second = rec->succeeded_per_second;
  per_second.resize(std::max(per_second.size(), requests_at.size()));
  r.convergence_s = convergence(sc, *rec, requests_at, throttled_at);
  for (std::size_t i = 0; i < r.series.size(); ++i) {
    auto& p = r.series[i];
    if (i < per_second.size())
      p.goodput = per_second[i];
    if (i < rec->per_second_ms.size())
      p.p99_ms = quantile(rec->per_second_ms[i], 0.99);
  }
  for (std::size_t w = 0; w < sc.workload.size(); ++w) {
    auto& st = rec->streams[w];
    stream_result out;
    out.op_type = sc.workload[w].op_type;
    out.succeeded = st.succeeded;
    out.failed = st.failed;
    out.p50_ms = quantile(st.latencies_ms, 0.50);
    out.p95_ms = quantile(st.latencies_ms, 0.95);
    out.p99_ms = quantile(st.latencies_ms, 0.99);
    r.streams.push_back(std::move(out));
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                           - wall_start)
               .count();
  r.sim_items_per_wall_s = r.wall_s > 0 ? r.submitted / r.wall_s : 0;
  return r;
}

} // namespace batching::sim
