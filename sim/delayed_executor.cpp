#include "sim/delayed_executor.hpp"

#include <unordered_map>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/executor_actor.hpp"

namespace batching::sim {

namespace {

using delayed_executor_actor
  = executor_actor::extend<caf::reacts_to<timer_atom, std::uint64_t>>;

struct delayed_state {
  static inline const char* name = "delayed_executor";
  std::uint64_t next = 1;
  std::unordered_map<
    std::uint64_t,
    std::pair<caf::typed_response_promise<batch_outcome>, batch_outcome>>
    pending;
  // Kept so an unanswered request is not a broken promise.
  std::vector<caf::typed_response_promise<batch_outcome>> never;
};

delayed_executor_actor::behavior_type
delayed_impl(delayed_executor_actor::stateful_pointer<delayed_state> self,
             responder fn) {
  return {
    [=](execute_atom,
        const batch& b) -> caf::typed_response_promise<batch_outcome> {
      auto rp = self->make_response_promise<batch_outcome>();
      std::optional<delayed_answer> answer;
      try {
        answer = fn(b);
      } catch (...) {
        rp.deliver(exception_outcome(b, std::current_exception()));
        return rp;
      }
      if (!answer) {
        self->state.never.push_back(rp);
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

} // namespace

executor_actor spawn_delayed_executor(caf::actor_system& sys, responder fn) {
  return caf::actor_cast<executor_actor>(
    sys.spawn(delayed_impl, std::move(fn)));
}

} // namespace batching::sim
