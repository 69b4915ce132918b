// Function executors: a throwing callback becomes a retryable failure, the
// batch id is always stamped, async completions arrive from other threads.

#include <stdexcept>
#include <thread>

#include "actors/executor_actor.hpp"

#include "tests/actors/actor_fixture.hpp"

using namespace batching;
using namespace batching::testing_support;

namespace {

class executor_test : public actor_fixture {
protected:
  batch make_batch(std::uint64_t id) {
    batch b;
    b.batch_id = id;
    b.operations = {{1, "a"}, {2, "b"}};
    return b;
  }
};

} // namespace

TEST_F(executor_test, inline_callbacks_answer_and_exceptions_become_failures) {
  auto ok = track(spawn_inline_executor(sys, [](const batch& b) {
    batch_outcome o;
    o.items.resize(b.operations.size());
    return o; // batch_id left 0 on purpose
  }));
  auto out = ask<batch_outcome>(ok, execute_atom::value, make_batch(7));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->batch_id, 7u);
  EXPECT_EQ(out->status, batch_status::ok);
  auto throws
    = track(spawn_inline_executor(sys, [](const batch&) -> batch_outcome {
        throw std::runtime_error("connection reset");
      }));
  out = ask<batch_outcome>(throws, execute_atom::value, make_batch(8));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->batch_id, 8u);
  EXPECT_EQ(out->status, batch_status::retryable_failure);
  EXPECT_EQ(out->message, "executor threw: connection reset");
  // The executor survives its callback's exception.
  out = ask<batch_outcome>(throws, execute_atom::value, make_batch(9));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->batch_id, 9u);
}

TEST_F(executor_test, async_completions_arrive_from_other_threads) {
  completion saved;
  auto exec = track(spawn_async_executor(
    sys, [&](const batch&, completion c) { saved = std::move(c); }, nullptr));
  caf::scoped_actor self{sys};
  auto rh
    = self->request(exec, caf::infinite, execute_atom::value, make_batch(5));
  sched.run();
  ASSERT_TRUE(saved);
  std::thread other{[&] {
    batch_outcome o;
    o.status = batch_status::throttled;
    saved(o);
    saved(o); // a second completion is ignored
  }};
  other.join();
  sched.run();
  bool answered = false;
  rh.receive(
    [&](batch_outcome& o) {
      answered = true;
      EXPECT_EQ(o.batch_id, 5u);
      EXPECT_EQ(o.status, batch_status::throttled);
    },
    [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
  EXPECT_TRUE(answered);
}

TEST_F(executor_test, async_callbacks_that_throw_fail_the_batch) {
  auto exec = track(spawn_async_executor(
    sys,
    [](const batch&, completion) {
      throw std::logic_error("bad payload template");
    },
    nullptr));
  auto out = ask<batch_outcome>(exec, execute_atom::value, make_batch(3));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, batch_status::retryable_failure);
  EXPECT_EQ(out->message, "executor threw: bad payload template");
}
