#include "actors/circuit_breaker_actor.hpp"

#include <deque>
#include <unordered_set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wakeup.hpp"
#include "runtime/policy/circuit_breaker.hpp"

namespace batching {

namespace {

struct gate_state {
  static inline const char* name = "circuit_breaker";

  explicit gate_state(circuit_breaker_actor::stateful_pointer<gate_state> self)
    : self(self) {
    // nop
  }

  void init(gate_config cfg) {
    backend = std::move(cfg.backend);
    breaker = circuit_breaker{cfg.breaker};
    flow = make_flow_controller(cfg.flow);
  }

  circuit_breaker_actor::stateful_pointer<gate_state> self;
  std::string backend;
  circuit_breaker breaker;
  std::unique_ptr<flow_controller> flow;
  std::deque<permit_listener> waiting;
  std::unordered_set<std::uint64_t> outstanding;
  std::uint64_t next_permit = 1;
  std::vector<breaker_listener> listeners;
  wakeup timer;

  void publish(const circuit_breaker::transition& t, time_point now) {
    breaker_state_changed msg{backend, t.from, t.to, now, t.reason};
    for (auto& l : listeners)
      self->send(l, msg);
  }

  void on_acquire(permit_listener who) {
    waiting.push_back(std::move(who));
    dispatch();
  }

  void on_completed(const request_completed& rc) {
    if (outstanding.erase(rc.permit) == 0)
      return; // unknown or reported twice: never count it again
    auto now = now_of(self);
    if (rc.sent) {
      flow->on_completed(now, rc.status, rc.retry_after, rc.latency);
      if (auto t = breaker.on_result(rc.status, now))
        publish(*t, now);
    } else {
      flow->on_abandoned();
      breaker.on_abandoned();
    }
    dispatch();
  }

  void dispatch() {
    auto now = now_of(self);
    if (auto t = breaker.advance(now))
      publish(*t, now);
    while (!waiting.empty()) {
      if (!breaker.allows()) {
        if (auto at = breaker.half_open_at())
          timer.arm(self, *at, now);
        return; // half-open with a trial out: its report dispatches again
      }
      auto at = flow->earliest(now);
      if (!at)
        return; // in-flight cap: the next report dispatches again
      if (*at > now) {
        timer.arm(self, *at, now);
        return;
      }
      flow->on_sent(now);
      breaker.on_sent();
      auto id = next_permit++;
      outstanding.insert(id);
      self->send(waiting.front(), permit_atom::value, id);
      waiting.pop_front();
    }
  }

  gate_status status() const {
    return {backend,           breaker.state(),
            flow->rate(),      flow->ceiling().value_or(0),
            flow->in_flight(), waiting.size()};
  }
};

circuit_breaker_actor::behavior_type
gate_impl(circuit_breaker_actor::stateful_pointer<gate_state> self,
          gate_config cfg) {
  self->state.init(std::move(cfg));
  return {
    [=](acquire_atom, permit_listener who) {
      self->state.on_acquire(std::move(who));
    },
    [=](const request_completed& rc) { self->state.on_completed(rc); },
    [=](caf::subscribe_atom, breaker_listener who) {
      self->state.listeners.push_back(std::move(who));
    },
    [=](caf::get_atom) { return self->state.status(); },
    [=](timer_atom, std::uint64_t generation) {
      if (self->state.timer.fire(generation))
        self->state.dispatch();
    },
  };
}

} // namespace

circuit_breaker_actor spawn_circuit_breaker(caf::actor_system& sys,
                                            gate_config cfg) {
  return sys.spawn(gate_impl, std::move(cfg));
}

} // namespace batching
