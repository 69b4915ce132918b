#include "actors/resource_sampler_actor.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/make_message.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wakeup.hpp"
#include "runtime/policy/resource_monitor.hpp"

namespace batching {

namespace {

struct sampler_state {
  static inline const char* name = "resource_sampler";

  explicit sampler_state(
    resource_sampler_actor::stateful_pointer<sampler_state> self)
    : self(self) {
    // nop
  }

  resource_sampler_actor::stateful_pointer<sampler_state> self;
  std::shared_ptr<resource_probe> probe;
  std::optional<resource_monitor> monitor;
  duration period{};
  std::vector<resource_listener> subscribers;
  wakeup timer;

  /// One message, shared by every subscriber (CAF copies on write only).
  void broadcast(caf::message msg) {
    for (auto& s : subscribers)
      caf::anon_send(caf::actor_cast<caf::actor>(s), msg);
  }

  void sample() {
    auto now = now_of(self);
    auto snap = probe->read(now);
    auto alerts = monitor->observe(snap);
    broadcast(caf::make_message(snap));
    for (auto& alert : alerts)
      broadcast(caf::make_message(std::move(alert)));
    timer.arm(self, now + period, now);
  }

  void unsubscribe(const resource_listener& who) {
    subscribers.erase(std::remove(subscribers.begin(), subscribers.end(), who),
                      subscribers.end());
  }
};

resource_sampler_actor::behavior_type
sampler_impl(resource_sampler_actor::stateful_pointer<sampler_state> self,
             sampler_config cfg, std::shared_ptr<resource_probe> probe) {
  auto& st = self->state;
  st.probe = std::move(probe);
  st.monitor.emplace(cfg.thresholds, cfg.scaling, cfg.sampling);
  st.period = from_seconds(cfg.sampling.interval_seconds);
  st.timer.arm(self, now_of(self) + st.period, now_of(self));
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const resource_listener& s) {
                                return s.address() == dm.source;
                              }),
               subs.end());
  });
  return {
    [=](caf::subscribe_atom, resource_listener who) {
      self->monitor(who);
      self->state.subscribers.push_back(std::move(who));
    },
    [=](caf::unsubscribe_atom, const resource_listener& who) {
      self->state.unsubscribe(who);
    },
    [=](caf::get_atom) {
      return self->state.monitor->latest().value_or(resource_snapshot{});
    },
    [=](trends_atom) { return self->state.monitor->trends(); },
    [=](trends_atom, double window_s) {
      return self->state.monitor->trends(from_seconds(window_s));
    },
    [=](recommend_atom) { return self->state.monitor->recommendations(); },
    [=](alerts_atom) { return self->state.monitor->active_alerts(); },
    [=](timer_atom, std::uint64_t generation) {
      if (self->state.timer.fire(generation))
        self->state.sample();
    },
  };
}

} // namespace

resource_sampler_actor
spawn_resource_sampler(caf::actor_system& sys, sampler_config cfg,
                       std::shared_ptr<resource_probe> probe) {
  return sys.spawn(sampler_impl, cfg, std::move(probe));
}

} // namespace batching
