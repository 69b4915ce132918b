#include "actors/supervisor_actor.hpp"

#include <iostream>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wakeup.hpp"

namespace batching {

namespace {

enum class role { executor, gate, batcher };

const char* name_of(role r) {
  switch (r) {
    case role::executor: return "executor";
    case role::gate: return "gate";
    default: return "batcher";
  }
}

struct supervisor_state {
  static inline const char* name = "supervisor";

  explicit supervisor_state(
    supervisor_actor::stateful_pointer<supervisor_state> self)
    : self(self) {
    // nop
  }

  struct child {
    role kind;
    std::string name; // backend, or operation type
    caf::actor_addr addr;
    restart_policy policy;
    bool waiting = false; // a delayed restart is armed
  };

  supervisor_actor::stateful_pointer<supervisor_state> self;
  supervision plan;
  std::vector<child> children;

  void init(supervision p) {
    plan = std::move(p);
    for (auto& [name, b] : plan.backends) {
      if (b.respawn_executor)
        watch(role::executor, name, caf::actor_cast<caf::actor>(b.executor));
      watch(role::gate, name, caf::actor_cast<caf::actor>(b.gate));
    }
    for (auto& [name, t] : plan.types)
      watch(role::batcher, name, caf::actor_cast<caf::actor>(t.batcher));
  }

  void watch(role kind, const std::string& name, const caf::actor& a) {
    if (!a)
      return;
    self->monitor(a);
    for (auto& c : children)
      if (c.kind == kind && c.name == name) {
        c.addr = a.address();
        return;
      }
    children.push_back({kind, name, a.address(), restart_policy{plan.policy}});
  }

  /// The live actor of a role; none while its restart waits.
  caf::actor current(role kind, const std::string& name) const {
    for (const auto& c : children)
      if (c.kind == kind && c.name == name && c.waiting)
        return {};
    switch (kind) {
      case role::executor:
        if (auto it = plan.backends.find(name); it != plan.backends.end())
          return caf::actor_cast<caf::actor>(it->second.executor);
        break;
      case role::gate:
        if (auto it = plan.backends.find(name); it != plan.backends.end())
          return caf::actor_cast<caf::actor>(it->second.gate);
        break;
      default:
        if (auto it = plan.types.find(name); it != plan.types.end())
          return caf::actor_cast<caf::actor>(it->second.batcher);
    }
    return {};
  }

  void on_down(const caf::down_msg& dm) {
    if (dm.reason == caf::exit_reason::normal
        || dm.reason == caf::exit_reason::user_shutdown)
      return; // stopped on purpose
    for (std::size_t i = 0; i < children.size(); ++i) {
      auto& c = children[i];
      if (c.addr != dm.source || c.waiting)
        continue;
      auto wait = c.policy.on_death(now_of(self));
      if (plan.warn)
        warn(c, dm.reason, wait);
      if (wait > duration{0}) {
        c.waiting = true;
        self->delayed_send(self, wait, timer_atom::value, std::uint64_t{i});
      } else {
        restart(i);
      }
      return;
    }
  }

  void warn(const child& c, const caf::error& reason, duration wait) {
    std::cerr << "batching: warning: the " << name_of(c.kind) << " of '"
              << c.name << "' stopped (" << self->system().render(reason)
              << "); restarting it";
    if (wait > duration{0})
      std::cerr << " in " << to_seconds(wait) << " s (crash "
                << c.policy.restarts() << ")";
    std::cerr << '\n';
  }

  void restart(std::size_t i) {
    children[i].waiting = false;
    // Copies: watch() below may grow `children`.
    auto kind = children[i].kind;
    auto name = children[i].name;
    switch (kind) {
      case role::executor: {
        auto& b = plan.backends.at(name);
        auto e = b.respawn_executor();
        if (!e)
          return;
        b.executor = e;
        watch(role::executor, name, caf::actor_cast<caf::actor>(e));
        for (auto& [_, t] : plan.types)
          if (t.engine.backend == name)
            self->send(t.batcher, caf::put_atom::value, e);
        break;
      }
      case role::gate: {
        auto& b = plan.backends.at(name);
        // Past every permit the old gate could have granted.
        b.gate_settings.first_permit += std::uint64_t{1} << 40;
        // The predecessor's last rate and ceiling (written by it after
        // every answer; it is dead, so they are final).
        if (auto& m = b.gate_settings.memory; m && m->rate > 0) {
          b.gate_settings.flow.resumed = true;
          b.gate_settings.flow.initial_rate = m->rate;
          b.gate_settings.flow.initial_ceiling = m->ceiling;
          b.gate_settings.flow.rough_ceiling = m->rough;
        }
        // A Retry-After the old gate was told still holds.
        if (auto& m = b.gate_settings.memory)
          b.gate_settings.flow.blocked_until
            = time_point{duration{m->blocked_until_ns.load()}};
        auto g = spawn_circuit_breaker(self->system(), b.gate_settings);
        b.gate = g;
        watch(role::gate, name, caf::actor_cast<caf::actor>(g));
        for (auto& [_, t] : plan.types)
          if (t.engine.backend == name)
            self->send(t.batcher, caf::put_atom::value, g);
        if (plan.coordinator)
          self->send(plan.coordinator, caf::put_atom::value, name, g);
        break;
      }
      default: {
        auto& t = plan.types.at(name);
        const auto& b = plan.backends.at(t.engine.backend);
        // Another seed: the retry jitter of a successor is its own.
        ++t.engine.seed;
        auto n = spawn_batcher(
          self->system(), t.engine,
          {b.gate, b.executor, plan.coordinator, plan.optimizer});
        t.batcher = n;
        watch(role::batcher, name, caf::actor_cast<caf::actor>(n));
        if (plan.coordinator)
          self->send(plan.coordinator, caf::put_atom::value, name, n);
        if (plan.optimizer)
          self->send(plan.optimizer, caf::put_atom::value, name, n);
        if (plan.sampler)
          self->send(plan.sampler, caf::subscribe_atom::value,
                     resource_listener{n});
      }
    }
    if (plan.coordinator)
      self->send(plan.coordinator, restart_atom::value,
                 std::string{name_of(kind)}, name);
  }

  /// Stops every actor it supervises (a shutdown), then itself.
  void stop(const caf::error& reason) {
    auto bye = caf::exit_reason::user_shutdown;
    for (auto& [_, b] : plan.backends) {
      if (b.respawn_executor)
        caf::anon_send_exit(b.executor, bye);
      caf::anon_send_exit(b.gate, bye);
    }
    for (auto& [_, t] : plan.types)
      caf::anon_send_exit(t.batcher, bye);
    self->quit(reason);
  }
};

supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                supervision plan) {
  self->state.init(std::move(plan));
  self->set_down_handler(
    [self](caf::down_msg& dm) { self->state.on_down(dm); });
  self->set_exit_handler(
    [self](caf::exit_msg& em) { self->state.stop(em.reason); });
  return {
    [self](caf::get_atom, const std::string& r,
           const std::string& name) -> caf::actor {
      for (auto kind : {role::executor, role::gate, role::batcher})
        if (r == name_of(kind))
          return self->state.current(kind, name);
      return {};
    },
    [self](reconfigure_atom, const std::string& type, const sizing_change& c) {
      auto& plan = self->state.plan;
      auto it = plan.types.find(type);
      if (it == plan.types.end())
        return false;
      // A restarted batcher starts from the changed settings too.
      it->second.engine = with_change(it->second.engine, c);
      if (auto b = caf::actor_cast<batcher_actor>(
            self->state.current(role::batcher, type)))
        self->send(b, reconfigure_atom::value, c);
      return true;
    },
    [self](reconfigure_atom, const std::string& backend, double rate) {
      auto& plan = self->state.plan;
      auto it = plan.backends.find(backend);
      if (it == plan.backends.end())
        return false;
      it->second.gate_settings.flow.initial_rate = rate;
      if (auto g = caf::actor_cast<circuit_breaker_actor>(
            self->state.current(role::gate, backend)))
        self->send(g, reconfigure_atom::value, rate);
      return true;
    },
    [self](timer_atom, std::uint64_t i) {
      if (i < self->state.children.size() && self->state.children[i].waiting)
        self->state.restart(i);
    },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, supervision plan) {
  return sys.spawn(supervisor_impl, std::move(plan));
}

} // namespace batching
