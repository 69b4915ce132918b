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

#include "messages/error.hpp"
#include "messages/interfaces.hpp"
#include "messages/registration.hpp"
#include "sim/delayed_executor.hpp"
#include "sim/virtual_time.hpp"

namespace batching::testing_support {

using sim::advance_clock;
using sim::deterministic_config;

/// What the scripted executor answers (sim/delayed_executor.hpp).
using scripted_answer = sim::delayed_answer;
using script = sim::responder;

inline batch_outcome ok_outcome(duration latency
                                = std::chrono::milliseconds{20}) {
  batch_outcome o;
  o.status = batch_status::ok;
  o.latency = latency;
  return o;
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
    return track(sim::spawn_delayed_executor(sys, std::move(fn)));
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
