#pragma once

// Deterministic actor tests: CAF's test_coordinator scheduler (no threads,
// virtual time), a blocking ask() that runs the system until the answer is
// there, and a scripted executor whose answers and delays a test decides.

#include <functional>
#include <optional>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <gtest/gtest.h>

#include "actors/executor_actor.hpp"
#include "messages/error.hpp"
#include "messages/interfaces.hpp"
#include "messages/registration.hpp"

namespace batching::testing_support {

struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    register_types(*this);
  }
};

/// What the scripted executor does with one batch: the outcome and after
/// how much virtual time it answers; nothing = never answers. A script that
/// throws is answered like a function executor's throwing callback.
struct scripted_answer {
  batch_outcome outcome;
  duration delay{0};
};
using script = std::function<std::optional<scripted_answer>(const batch&)>;

using scripted_executor_actor
  = executor_actor::extend<caf::reacts_to<timer_atom, std::uint64_t>>;

struct scripted_state {
  std::uint64_t next = 1;
  std::unordered_map<
    std::uint64_t,
    std::pair<caf::typed_response_promise<batch_outcome>, batch_outcome>>
    pending;
  std::vector<caf::typed_response_promise<batch_outcome>> never;
};

inline scripted_executor_actor::behavior_type scripted_executor(
  scripted_executor_actor::stateful_pointer<scripted_state> self, script fn) {
  return {
    [=](execute_atom,
        const batch& b) -> caf::typed_response_promise<batch_outcome> {
      auto rp = self->make_response_promise<batch_outcome>();
      std::optional<scripted_answer> answer;
      try {
        answer = fn(b);
      } catch (...) {
        rp.deliver(exception_outcome(b, std::current_exception()));
        return rp;
      }
      if (!answer) {
        self->state.never.push_back(rp); // kept, so no broken promise
        return rp;
      }
      answer->outcome.batch_id = b.batch_id;
      if (answer->delay <= duration{0}) {
        rp.deliver(answer->outcome);
        return rp;
      }
      auto key = self->state.next++;
      self->state.pending.emplace(key, std::pair{rp, answer->outcome});
      self->delayed_send(self, answer->delay, timer_atom::value, key);
      return rp;
    },
    [=](timer_atom, std::uint64_t key) {
      auto it = self->state.pending.find(key);
      if (it == self->state.pending.end())
        return;
      it->second.first.deliver(it->second.second);
      self->state.pending.erase(it);
    },
  };
}

inline batch_outcome ok_outcome(duration latency
                                = std::chrono::milliseconds{20}) {
  batch_outcome o;
  o.status = batch_status::ok;
  o.latency = latency;
  return o;
}

/// Runs every message, then fires timers in due order for `d` of virtual
/// time (each timer moves the clock to its due time first).
inline void advance_clock(caf::scheduler::test_coordinator& sched, duration d) {
  auto& clock = sched.clock();
  sched.run();
  auto until = clock.now() + d;
  while (!clock.schedule().empty()
         && clock.schedule().begin()->first <= until) {
    clock.trigger_timeout();
    sched.run();
  }
  if (clock.current_time < until)
    clock.current_time = until;
  sched.run();
}

class actor_fixture : public ::testing::Test {
protected:
  deterministic_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Every actor a test spawns goes through here, so TearDown can stop it
  /// (a live actor with a pending timer would keep ~actor_system waiting).
  template <class Handle>
  Handle track(Handle h) {
    spawned_.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  void TearDown() override {
    for (auto& h : spawned_)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    sched.run();
    while (sched.clock().trigger_timeout()) // delayed messages to the dead
      sched.run();
  }

  time_point now() { return sched.clock().now(); }

  void advance(duration d) { advance_clock(sched, d); }

  executor_actor spawn_scripted(script fn) {
    return track(sys.spawn(scripted_executor, std::move(fn)));
  }

private:
  std::vector<caf::actor> spawned_;

protected:
  /// Sends a request, runs the system, returns the answer (or the error).
  template <class R, class Handle, class... Ts>
  caf::expected<R> ask(const Handle& h, Ts&&... xs) {
    caf::scoped_actor self{sys};
    auto rh = self->request(h, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    caf::expected<R> result{caf::sec::request_timeout};
    rh.receive([&](R& r) { result = std::move(r); },
               [&](caf::error& e) { result = std::move(e); });
    return result;
  }
};

} // namespace batching::testing_support
