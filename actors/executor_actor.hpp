#pragma once

// Executors turn a batch into backend calls. The function executors here
// wrap host code:
//   blocking   a callback that may block (an HTTP client call): it runs on
//              a pool of threads of its own, so it never stalls the
//              scheduler's workers;
//   inline     a callback that never blocks (cheap, CPU-only): it runs in
//              the executor actor itself, without a thread hop;
//   async      a callback that starts work and returns at once; it
//              completes the batch later, from any thread, through the
//              completion handle it was given.
// A callback that throws yields a retryable_failure outcome carrying the
// exception's message; one that never answers is timed out by the batcher's
// request timeout. The outcome's batch_id is always set by the executor.

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

#include "messages/interfaces.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

// sync_callback, completion and async_callback: runtime/policy/types.hpp.

/// Lets completions reach their executor only while the actor system
/// lives: close() it before destroying the system, and a callback that
/// returns later (a blocked host call) completes into nothing instead of
/// touching a dead system.
class completion_gate {
public:
  /// Runs `send` unless closed; never concurrently with close().
  template <class F>
  void pass(F&& send) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (open_)
      send();
  }

  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = false;
  }

private:
  std::mutex mtx_;
  bool open_ = true;
};

/// A blocking callback on `workers` threads of its own (plain threads, not
/// CAF's: a callback that never returns must not keep the actor system from
/// shutting down; its thread is abandoned).
executor_actor spawn_blocking_executor(caf::actor_system& sys, sync_callback fn,
                                       std::size_t workers,
                                       std::shared_ptr<completion_gate> gate);

/// A non-blocking callback run inside the actor.
executor_actor spawn_inline_executor(caf::actor_system& sys, sync_callback fn);

/// An asynchronous callback.
executor_actor spawn_async_executor(caf::actor_system& sys, async_callback fn,
                                    std::shared_ptr<completion_gate> gate);

/// Runs `fn` for `b`, turning an exception into a retryable failure and
/// stamping the batch id (shared by all executors).
batch_outcome run_guarded(const sync_callback& fn, const batch& b);

/// The outcome of a batch whose executor threw `ep`: a retryable failure
/// carrying the exception's message.
batch_outcome exception_outcome(const batch& b, std::exception_ptr ep);

} // namespace batching
