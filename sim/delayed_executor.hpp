#pragma once

// An executor actor for simulated backends: a responder decides each
// request's answer and delay; the actor delivers the answer after that much
// time on its actor clock (virtual under the deterministic scheduler). A
// responder that answers nothing leaves the request unanswered (the
// batcher's timeout fires); one that throws is answered like a function
// executor's throwing callback.

#include <functional>
#include <optional>

#include "messages/interfaces.hpp"
#include "sim/delayed_answer.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching::sim {

using responder = std::function<std::optional<delayed_answer>(const batch&)>;

executor_actor spawn_delayed_executor(caf::actor_system& sys, responder fn);

} // namespace batching::sim
