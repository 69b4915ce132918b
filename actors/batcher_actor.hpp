#pragma once

// The batcher of one operation type: a thin shell around batch_engine
// (runtime/policy). It asks its backend's gate for a permit whenever a batch
// is ready, sends the batch to the executor on each permit (with the
// request's timeout; an error or timeout becomes a retryable outcome),
// reports each permit back to the gate, and forwards operation events to
// the coordinator after every message it handles. Types that learn (`ml`)
// send each closed sample window to the optimizer and ask it for a
// prediction, which the engine applies when confident; during an A/B test
// each window's goodput goes to the optimizer as ab_record. The supervisor
// hands it a restarted executor or gate (a permit pending at a dead gate is
// asked again; reports of the old gate's permits are ignored by the new).

#include "messages/interfaces.hpp"
#include "runtime/policy/batch_engine.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct batcher_wiring {
  circuit_breaker_actor gate;
  executor_actor executor;
  events_listener coordinator;
  optimizer_actor optimizer; // may be invalid: no learning, no A/B tests
};

/// `e` with a live sizing change applied (the batcher's engine settings,
/// and the supervisor's copy for the batcher's restarts).
batch_engine::config with_change(batch_engine::config e,
                                 const sizing_change& c);

batcher_actor spawn_batcher(caf::actor_system& sys, batch_engine::config cfg,
                            batcher_wiring wiring);

} // namespace batching
