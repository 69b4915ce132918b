#include "actors/executor_actor.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

namespace batching {

namespace {

batch_outcome failure(const batch& b, std::string message) {
  batch_outcome out;
  out.batch_id = b.batch_id;
  out.status = batch_status::retryable_failure;
  out.message = std::move(message);
  return out;
}

// -- inline and blocking ------------------------------------------------------

executor_actor::behavior_type inline_impl(executor_actor::pointer,
                                          sync_callback fn) {
  return {
    [fn](execute_atom, const batch& b) { return run_guarded(fn, b); },
  };
}

/// Threads for blocking callbacks. The threads share the queue with the
/// pool and are detached, so destroying the pool never waits for a
/// callback that does not return; idle threads end once the pool is gone.
class worker_pool {
public:
  explicit worker_pool(std::size_t workers)
    : shared_(std::make_shared<queue>()) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i)
      std::thread{[q = shared_] { q->work(); }}.detach();
  }

  ~worker_pool() {
    {
      std::lock_guard<std::mutex> guard{shared_->mtx};
      shared_->stopping = true;
    }
    shared_->cv.notify_all();
  }

  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> guard{shared_->mtx};
      shared_->tasks.push_back(std::move(task));
    }
    shared_->cv.notify_one();
  }

private:
  struct queue {
    std::mutex mtx;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;

    void work() {
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock<std::mutex> lock{mtx};
          cv.wait(lock, [&] { return stopping || !tasks.empty(); });
          if (stopping)
            return;
          task = std::move(tasks.front());
          tasks.pop_front();
        }
        task();
      }
    }
  };

  std::shared_ptr<queue> shared_;
};

// -- async --------------------------------------------------------------------

using completed_atom = caf::atom_constant<caf::atom("completed")>;

/// The async executor's own interface: the public one plus completions.
using async_executor_actor = executor_actor::extend<
  caf::reacts_to<completed_atom, std::uint64_t, batch_outcome>>;

struct async_state {
  static inline const char* name = "async_executor";
  std::shared_ptr<completion_gate> gate;
  std::uint64_t next_key = 1;
  std::unordered_map<std::uint64_t, caf::typed_response_promise<batch_outcome>>
    open;
};

async_executor_actor::behavior_type
async_impl(async_executor_actor::stateful_pointer<async_state> self,
           async_callback fn, std::shared_ptr<completion_gate> gate) {
  self->state.gate
    = gate ? std::move(gate) : std::make_shared<completion_gate>();
  return {
    [=](execute_atom,
        const batch& b) -> caf::typed_response_promise<batch_outcome> {
      auto rp = self->make_response_promise<batch_outcome>();
      auto key = self->state.next_key++;
      self->state.open.emplace(key, rp);
      // The handle sends the outcome back to this actor, which delivers it
      // on its own thread; a second call is ignored (the key is gone).
      auto me = caf::actor_cast<caf::actor>(self);
      auto id = b.batch_id;
      auto gate = self->state.gate;
      completion done = [me, key, id, gate](batch_outcome out) {
        out.batch_id = id;
        gate->pass([&] {
          caf::anon_send(me, completed_atom::value, key, std::move(out));
        });
      };
      try {
        fn(b, std::move(done));
      } catch (...) {
        self->state.open.erase(key);
        rp.deliver(exception_outcome(b, std::current_exception()));
      }
      return rp;
    },
    [=](completed_atom, std::uint64_t key, batch_outcome& out) {
      auto it = self->state.open.find(key);
      if (it == self->state.open.end())
        return;
      it->second.deliver(std::move(out));
      self->state.open.erase(it);
    },
  };
}

} // namespace

batch_outcome exception_outcome(const batch& b, std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return failure(b, std::string{"executor threw: "} + e.what());
  } catch (...) {
    return failure(b, "executor threw a non-standard exception");
  }
}

batch_outcome run_guarded(const sync_callback& fn, const batch& b) {
  try {
    auto out = fn(b);
    out.batch_id = b.batch_id;
    return out;
  } catch (...) {
    return exception_outcome(b, std::current_exception());
  }
}

executor_actor spawn_blocking_executor(caf::actor_system& sys, sync_callback fn,
                                       std::size_t workers,
                                       std::shared_ptr<completion_gate> gate) {
  auto pool = std::make_shared<worker_pool>(workers);
  // Shared, so a task still queued or running outlives the actor safely.
  auto shared_fn = std::make_shared<const sync_callback>(std::move(fn));
  return spawn_async_executor(
    sys,
    [pool, shared_fn](const batch& b, completion done) {
      pool->post([shared_fn, b, done = std::move(done)] {
        done(run_guarded(*shared_fn, b));
      });
    },
    std::move(gate));
}

executor_actor spawn_inline_executor(caf::actor_system& sys, sync_callback fn) {
  return sys.spawn(inline_impl, std::move(fn));
}

executor_actor spawn_async_executor(caf::actor_system& sys, async_callback fn,
                                    std::shared_ptr<completion_gate> gate) {
  return caf::actor_cast<executor_actor>(
    sys.spawn(async_impl, std::move(fn), std::move(gate)));
}

} // namespace batching
