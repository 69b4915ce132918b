#include "actors/circuit_breaker_actor.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wakeup.hpp"
#include "runtime/policy/circuit_breaker.hpp"
#include "runtime/policy/cluster_budget.hpp"

namespace batching {

namespace {

/// How long a lease may take before the authority counts as lost.
constexpr duration lease_timeout = std::chrono::seconds{1};

struct gate_state {
  static inline const char* name = "circuit_breaker";

  explicit gate_state(circuit_breaker_actor::stateful_pointer<gate_state> self)
    : self(self) {
    // nop
  }

  void init(gate_config cfg) {
    backend = std::move(cfg.backend);
    breaker = circuit_breaker{cfg.breaker};
    cluster_rate = cfg.flow.initial_rate;
    flow_settings_ = cfg.flow;
    flow = make_flow_controller(cfg.flow);
    node = std::move(cfg.node);
    next_permit = cfg.first_permit;
    memory = std::move(cfg.memory);
    join(std::move(cfg.authority));
  }

  /// Leases come from `a` from now on (at start, and when it is found
  /// again after a loss).
  void join(budget_authority_actor a) {
    authority = std::move(a);
    if (!authority)
      return;
    self->send(authority, caf::subscribe_atom::value,
               caf::actor_cast<budget_listener>(self));
    self->monitor(authority);
  }

  circuit_breaker_actor::stateful_pointer<gate_state> self;
  std::string backend;
  circuit_breaker breaker;
  std::unique_ptr<flow_controller> flow;
  flow_settings flow_settings_; // what a live change starts it from
  std::deque<permit_listener> waiting;
  struct grant {
    time_point at; // the flow controller's send
    caf::actor_addr holder;
  };
  // Permits out.
  std::unordered_map<std::uint64_t, grant> outstanding;
  // Holders monitored: a dead one never reports its permits.
  std::set<caf::actor_addr> watched;
  std::uint64_t next_permit = 1;
  std::shared_ptr<gate_memory> memory;
  std::vector<breaker_listener> listeners;
  wakeup timer;
  // Cluster mode (authority valid): permits leased from the authority.
  budget_authority_actor authority;
  std::string node;
  lease_wallet wallet;
  bool lease_pending = false;
  time_point last_lease_attempt{};
  time_point lease_not_before{};
  double cluster_rate = 0;
  std::size_t nodes = 1;

  /// Asks the authority for permits (one request at a time); on no answer
  /// the wallet falls back to the local share rate / nodes.
  void request_lease(time_point now) {
    if (lease_pending || now < lease_not_before)
      return;
    lease_pending = true;
    last_lease_attempt = now;
    auto wanted
      = static_cast<std::uint32_t>(std::max<std::size_t>(1, waiting.size()));
    self
      ->request(authority, lease_timeout, lease_atom::value,
                lease_request{node, backend, wanted})
      .then(
        [this](lease_grant& g) {
          lease_pending = false;
          auto t = now_of(self);
          nodes = std::max<std::uint32_t>(1, g.nodes);
          cluster_rate = g.rate;
          if (wallet.on_fallback())
            wallet.authority_back();
          wallet.add(g, t);
          if (g.permits == 0) {
            // Nothing left in this window: ask again when it ends.
            lease_not_before = t + g.retry_in;
            timer.arm(self, lease_not_before, t);
          }
          dispatch();
        },
        [this, asked = authority](caf::error&) {
          if (asked != authority)
            return; // an authority since replaced
          lease_pending = false;
          lost_authority(now_of(self));
        });
  }

  void lost_authority(time_point now) {
    if (!wallet.on_fallback())
      wallet.authority_lost({cluster_rate, nodes}, now);
    dispatch();
  }

  /// Cluster mode: spends a leased permit; false (and the next wake-up
  /// arranged) when none is spendable now.
  bool leased_permit(time_point now) {
    if (auto back = wallet.expire(now))
      self->send(authority,
                 lease_return{node, backend, back->first, back->second});
    // On the fallback share, keep asking now and then: the authority may
    // answer again.
    if (wallet.on_fallback() && now - last_lease_attempt >= lease_timeout)
      request_lease(now);
    if (wallet.take(now)) {
      // Ask ahead, so the next slots are known before these run out.
      if (!wallet.on_fallback() && wallet.held() <= 1)
        request_lease(now);
      return true;
    }
    // Held slots come due on their own; without any, ask for more (or
    // wake when the authority said to ask again).
    auto next = wallet.next_chance(now);
    if (!next && !wallet.on_fallback()) {
      request_lease(now);
      if (now < lease_not_before)
        next = lease_not_before;
    }
    if (next)
      timer.arm(self, *next, now);
    return false;
  }

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
    auto it = outstanding.find(rc.permit);
    if (it == outstanding.end())
      return; // unknown or reported twice: never count it again
    auto granted = it->second.at;
    outstanding.erase(it);
    auto now = now_of(self);
    if (rc.sent) {
      // The flow controller's latency runs from its own send (the grant):
      // the executor's starts later (the batch taken, the connection), so
      // now - that latency would date a request after a decrease it
      // preceded (a volley's 429s then read as new blocks).
      flow->on_completed(now, rc.status, rc.retry_after,
                         std::max(rc.latency, now - granted), rc.advice);
      remember();
      if (authority && rc.status == batch_status::throttled) {
        wallet.pause_until(now + rc.retry_after);
        self->send(authority, throttle_report{node, backend, rc.retry_after});
      }
      if (auto t = breaker.on_result(rc.status, now))
        publish(*t, now);
    } else {
      flow->on_abandoned();
      breaker.on_abandoned();
    }
    dispatch();
  }

  /// Keeps what the flow controller has learned outside the actor (see
  /// gate_memory).
  void remember() {
    if (!memory)
      return;
    memory->rate = flow->rate();
    memory->ceiling = flow->ceiling().value_or(0);
    memory->rough = flow->ceiling_rough();
    memory->blocked_until_ns = flow->blocked_until().time_since_epoch().count();
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
      if (authority && !leased_permit(now))
        return;
      flow->on_sent(now);
      breaker.on_sent();
      auto id = next_permit++;
      auto holder = waiting.front().address();
      if (watched.insert(holder).second)
        self->monitor(waiting.front());
      outstanding.emplace(id, grant{now, holder});
      self->send(waiting.front(), permit_atom::value, id);
      waiting.pop_front();
    }
  }

  /// A permit holder died (a batcher being restarted): its permits will
  /// never be reported, so they count as abandoned, and its place in the
  /// queue goes.
  void holder_lost(const caf::actor_addr& who) {
    watched.erase(who);
    std::erase_if(waiting,
                  [&](const permit_listener& l) { return l.address() == who; });
    for (auto it = outstanding.begin(); it != outstanding.end();) {
      if (it->second.holder != who) {
        ++it;
        continue;
      }
      flow->on_abandoned();
      breaker.on_abandoned();
      it = outstanding.erase(it);
    }
    dispatch();
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
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (st.authority && dm.source == st.authority.address())
      st.lost_authority(now_of(self));
    else
      st.holder_lost(dm.source);
  });
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
    [=](const cluster_pause& p) {
      auto now = now_of(self);
      self->state.wallet.pause_until(now + p.pause_for);
    },
    [=](caf::put_atom, budget_authority_actor a) {
      auto& st = self->state;
      if (!st.authority || a == st.authority)
        return; // not in cluster mode, or nothing new
      st.join(std::move(a));
      st.lease_pending = false; // the old authority's answer is moot
      st.lease_not_before = {};
      st.request_lease(now_of(self));
    },
    [=](reconfigure_atom, double rate) {
      // The operator declares the budget anew: learning starts from it
      // (not resumed: the old estimate is what they overrule).
      auto& st = self->state;
      st.flow_settings_.initial_rate = rate;
      st.flow_settings_.resumed = false;
      st.flow_settings_.blocked_until = st.flow->blocked_until();
      auto fresh = make_flow_controller(st.flow_settings_);
      fresh->carry_over(*st.flow);
      st.flow = std::move(fresh);
      st.remember();
      st.dispatch();
    },
  };
}

} // namespace

circuit_breaker_actor spawn_circuit_breaker(caf::actor_system& sys,
                                            gate_config cfg) {
  return sys.spawn(gate_impl, std::move(cfg));
}

} // namespace batching
