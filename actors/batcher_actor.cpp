#include "actors/batcher_actor.hpp"

#include <array>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wakeup.hpp"
#include "runtime/policy/resource_monitor.hpp"
#include "runtime/policy/text.hpp"

namespace batching {

namespace {

struct batcher_state {
  static inline const char* name = "batcher";

  explicit batcher_state(batcher_actor::stateful_pointer<batcher_state> self)
    : self(self) {
    // nop
  }

  batcher_actor::stateful_pointer<batcher_state> self;
  std::optional<batch_engine> engine;
  batcher_wiring wiring;
  wakeup timer;
  breaker_state breaker = breaker_state::closed;
  std::array<alert_level, 4> alerts{};

  void on_enqueue(work_items& w) {
    engine->enqueue(w.job_id, w.prio, w.deadline, w.first_index,
                    std::move(w.operations), now_of(self));
    pump();
  }

  void on_cancel(std::uint64_t job_id) {
    engine->cancel(job_id, now_of(self));
    pump();
  }

  void on_permit(std::uint64_t permit) {
    auto b = engine->take_batch(now_of(self));
    if (!b) {
      request_completed unused;
      unused.permit = permit;
      unused.sent = false;
      self->send(wiring.gate, unused);
      pump();
      return;
    }
    auto id = b->batch_id;
    auto started = now_of(self);
    auto timeout = b->timeout;
    auto me = self;
    self->request(wiring.executor, timeout, execute_atom::value, std::move(*b))
      .then(
        [me, id, permit](batch_outcome& outcome) {
          outcome.batch_id = id;
          me->state.on_outcome(permit, outcome);
        },
        [me, id, permit, started, timeout](caf::error& err) {
          // A timeout or a dead executor: the request failed retryably.
          batch_outcome outcome;
          outcome.batch_id = id;
          outcome.status = batch_status::retryable_failure;
          outcome.latency = now_of(me) - started;
          outcome.message = err == caf::sec::request_timeout
                              ? "no answer from the executor within "
                                  + format_number(to_seconds(timeout))
                                  + " s (timeout)"
                              : "executor: " + me->system().render(err);
          me->state.on_outcome(permit, outcome);
        });
    pump();
  }

  void on_outcome(std::uint64_t permit, const batch_outcome& outcome) {
    self->send(wiring.gate, request_completed{permit, true, outcome.status,
                                              outcome.retry_after,
                                              outcome.latency, outcome.advice});
    engine->on_outcome(outcome, now_of(self));
    learn();
    pump();
  }

  /// Closes a sample window if one is due: the sample to the optimizer and
  /// a prediction back; an A/B window's goodput as its record.
  void learn() {
    if (!wiring.optimizer)
      return;
    auto now = now_of(self);
    auto sample = engine->take_sample(now);
    if (auto ab = engine->take_ab_sample())
      self->send(wiring.optimizer, ab_record_atom::value, ab->test_id,
                 ab->test_arm, ab->goodput);
    if (!sample)
      return;
    if (!engine->settings().learn) {
      // The model learns this type too; its sizing stays its strategy's.
      if (engine->settings().sample)
        self->send(wiring.optimizer, std::move(*sample));
      return;
    }
    // The question is asked about the window just closed, in the very
    // terms the model learned from.
    prediction_request req{engine->settings().op_type, sample->features,
                           engine->target(now)};
    self->send(wiring.optimizer, std::move(*sample));
    auto me = self;
    self
      ->request(wiring.optimizer, engine->settings().sample_period,
                predict_atom::value, std::move(req))
      .then(
        [me](const prediction& p) {
          me->state.engine->advise(p, now_of(me));
          me->state.pump();
        },
        [](const caf::error&) {
          // No answer within a window: sizing stays as it is (the advice
          // expires on its own).
        });
  }

  void on_alert(const resource_alert& alert) {
    alerts[static_cast<std::size_t>(alert.resource)] = alert.level;
    double pressure = 0;
    for (auto level : alerts)
      pressure = std::max(pressure, pressure_of(level));
    engine->set_pressure(pressure);
  }

  batching_metrics metrics() {
    auto m = engine->metrics(now_of(self));
    m.breaker = breaker;
    m.circuit_breaker_active = breaker != breaker_state::closed;
    return m;
  }

  /// After every message: expire, ask for a permit, report, re-arm.
  void pump() {
    auto now = now_of(self);
    engine->expire(now);
    if (engine->needs_permit(now)) {
      engine->permit_requested();
      self->send(wiring.gate, acquire_atom::value, permit_listener{self});
    }
    auto events = engine->take_events();
    if (!events.empty())
      self->send(wiring.coordinator, std::move(events));
    if (auto at = engine->next_wakeup(now))
      timer.arm(self, *at, now);
  }
};

batcher_actor::behavior_type
batcher_impl(batcher_actor::stateful_pointer<batcher_state> self,
             batch_engine::config cfg, batcher_wiring wiring) {
  self->state.engine.emplace(std::move(cfg));
  self->state.wiring = std::move(wiring);
  self->send(self->state.wiring.gate, caf::subscribe_atom::value,
             breaker_listener{self});
  return {
    [=](enqueue_atom, work_items& w) { self->state.on_enqueue(w); },
    [=](permit_atom, std::uint64_t permit) { self->state.on_permit(permit); },
    [=](cancel_atom, std::uint64_t job_id) { self->state.on_cancel(job_id); },
    [=](metrics_atom) { return self->state.metrics(); },
    [=](const breaker_state_changed& change) {
      self->state.breaker = change.to;
    },
    [=](const resource_snapshot& snap) {
      // Pressure comes from sustained alerts, not single readings; the
      // readings are learning features.
      self->state.engine->set_resources(snap.cpu_percent, snap.memory_percent);
    },
    [=](const resource_alert& alert) { self->state.on_alert(alert); },
    [=](reconfigure_atom, const sizing_change& c) {
      auto next = with_change(self->state.engine->settings(), c);
      self->state.engine->reconfigure(next);
      self->state.pump(); // a smaller size may make a batch ready
    },
    [=](ab_start_atom, const std::string& id, const ab_test_config& cfg) {
      auto control = parse_enum<strategy_kind>(cfg.control_strategy);
      auto test = parse_enum<strategy_kind>(cfg.test_strategy);
      if (control && test)
        self->state.engine->start_ab(id, *control, *test,
                                     now_of(self) + cfg.length);
    },
    [=](caf::put_atom, executor_actor e) {
      // Batches out to the dead executor fail on their own (retryable).
      self->state.wiring.executor = std::move(e);
    },
    [=](caf::put_atom, circuit_breaker_actor g) {
      auto& st = self->state;
      st.wiring.gate = std::move(g);
      st.breaker = breaker_state::closed; // a new gate starts closed
      st.self->send(st.wiring.gate, caf::subscribe_atom::value,
                    breaker_listener{self});
      st.engine->permit_lost();
      st.pump();
    },
    [=](timer_atom, std::uint64_t generation) {
      if (self->state.timer.fire(generation))
        self->state.pump();
    },
  };
}

} // namespace

batch_engine::config with_change(batch_engine::config e,
                                 const sizing_change& c) {
  e.strategy = c.strategy;
  e.sizing.lo = c.lo;
  e.sizing.hi = c.hi;
  e.sizing.preferred = c.preferred;
  e.learn = c.learn;
  e.sample = c.sample;
  return e;
}

batcher_actor spawn_batcher(caf::actor_system& sys, batch_engine::config cfg,
                            batcher_wiring wiring) {
  return sys.spawn(batcher_impl, std::move(cfg), std::move(wiring));
}

} // namespace batching
