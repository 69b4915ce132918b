#include "actors/budget_authority_actor.hpp"

#include <algorithm>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wakeup.hpp"

namespace batching {

namespace {

struct authority_state {
  static inline const char* name = "budget_authority";

  std::map<std::string, budget_authority> backends;
  std::vector<budget_listener> listeners;
};

budget_authority_actor::behavior_type
authority_impl(budget_authority_actor::stateful_pointer<authority_state> self,
               std::map<std::string, budget_authority::config> cfg) {
  for (auto& [name, c] : cfg)
    self->state.backends.emplace(name, budget_authority{c});
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& ls = self->state.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const budget_listener& l) {
                              return l.address() == dm.source;
                            }),
             ls.end());
  });
  return {
    [=](lease_atom, const lease_request& r) {
      auto i = self->state.backends.find(r.backend);
      if (i == self->state.backends.end()) {
        lease_grant none;
        none.retry_in = std::chrono::seconds{1};
        return none;
      }
      return i->second.lease(r.node, r.wanted, now_of(self));
    },
    [=](const lease_return& r) {
      auto i = self->state.backends.find(r.backend);
      if (i != self->state.backends.end())
        i->second.give_back(r.node, r.unused, r.window, now_of(self));
    },
    [=](const throttle_report& r) {
      auto i = self->state.backends.find(r.backend);
      if (i == self->state.backends.end())
        return;
      auto pause = i->second.throttled(r.node, r.retry_after, now_of(self));
      for (auto& l : self->state.listeners)
        self->send(l, cluster_pause{r.backend, pause});
    },
    [=](caf::subscribe_atom, budget_listener who) {
      self->monitor(who);
      self->state.listeners.push_back(std::move(who));
    },
  };
}

} // namespace

budget_authority_actor
spawn_budget_authority(caf::actor_system& sys,
                       std::map<std::string, budget_authority::config> cfg) {
  return sys.spawn(authority_impl, std::move(cfg));
}

std::map<std::string, budget_authority::config>
authority_config(const runtime_config& cfg) {
  std::map<std::string, budget_authority::config> result;
  for (const auto& [name, be] : cfg.backends) {
    if (be.initial_requests_per_second <= 0)
      continue; // no known budget: each node paces it alone
    budget_authority::config c;
    c.rate = be.initial_requests_per_second;
    result.emplace(name, c);
  }
  return result;
}

} // namespace batching
