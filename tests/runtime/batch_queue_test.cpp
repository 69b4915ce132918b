#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/batch_queue.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

queued_item item(std::uint64_t id, priority prio, std::size_t bytes = 10,
                 std::uint64_t job = 1) {
  queued_item x;
  x.op = {id, std::string(bytes, 'x')};
  x.job_id = job;
  x.index = id;
  x.prio = prio;
  return x;
}

std::vector<std::uint64_t> ids(const std::vector<queued_item>& xs) {
  std::vector<std::uint64_t> result;
  for (const auto& x : xs)
    result.push_back(x.op.id);
  return result;
}

batch_queue::config caps(std::size_t items, std::size_t bytes,
                         duration linger = 50ms, std::uint32_t fair = 4) {
  return {items, bytes, linger, fair};
}

} // namespace

TEST(batch_queue, takes_by_priority_then_fifo) {
  batch_queue q{caps(10, 1000, 50ms, 100)};
  q.push(item(1, priority::low), at(0ms));
  q.push(item(2, priority::normal), at(0ms));
  q.push(item(3, priority::critical), at(0ms));
  q.push(item(4, priority::normal), at(0ms));
  q.push(item(5, priority::high), at(0ms));
  EXPECT_EQ(ids(q.take(10, at(0ms))),
            (std::vector<std::uint64_t>{3, 5, 2, 4, 1}));
}

TEST(batch_queue, closes_on_size_or_linger) {
  batch_queue q{caps(100, 1'000'000, 50ms)};
  q.push(item(1, priority::normal), at(0ms));
  q.push(item(2, priority::normal), at(10ms));
  EXPECT_FALSE(q.ready(3, at(10ms)));
  EXPECT_EQ(q.next_wakeup(3, at(10ms)), at(50ms)); // oldest + linger
  EXPECT_FALSE(q.ready(3, at(49ms)));
  EXPECT_TRUE(q.ready(3, at(50ms)));
  q.push(item(3, priority::normal), at(20ms));
  EXPECT_TRUE(q.ready(3, at(20ms))); // size reached
}

TEST(batch_queue, item_cap_bounds_the_target) {
  batch_queue q{caps(2, 1'000'000)};
  for (std::uint64_t i = 1; i <= 5; ++i)
    q.push(item(i, priority::normal), at(0ms));
  EXPECT_TRUE(q.ready(500, at(0ms))); // 5 >= min(500, cap 2)
  EXPECT_EQ(q.take(500, at(0ms)).size(), 2u);
}

TEST(batch_queue, byte_cap_closes_the_batch_before_the_next_item) {
  batch_queue q{caps(100, 25)};
  q.push(item(1, priority::normal, 10), at(0ms));
  q.push(item(2, priority::normal, 10), at(0ms));
  q.push(item(3, priority::normal, 10), at(0ms));
  EXPECT_TRUE(q.ready(100, at(0ms))); // 30 bytes >= cap
  EXPECT_EQ(ids(q.take(100, at(0ms))), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(q.size(), 1u);
}

TEST(batch_queue, low_priority_is_not_starved) {
  batch_queue q{caps(1, 1'000'000, 0ms, 4)};
  q.push(item(100, priority::low), at(0ms));
  // Sustained critical load: a fresh critical item per batch.
  std::vector<std::uint64_t> order;
  for (std::uint64_t i = 1; i <= 8; ++i) {
    q.push(item(i, priority::critical), at(duration{i}));
    order.push_back(q.take(1, at(duration{i}))[0].op.id);
  }
  // The 4th batch is oldest-first: the low item goes there.
  EXPECT_EQ(order[3], 100u);
}

TEST(batch_queue, throttled_items_keep_their_place) {
  batch_queue q{caps(2, 1'000'000)};
  for (std::uint64_t i = 1; i <= 4; ++i)
    q.push(item(i, priority::normal), at(0ms));
  auto first = q.take(2, at(0ms));
  for (auto it = first.rbegin(); it != first.rend(); ++it)
    q.push_front(*it);
  EXPECT_EQ(ids(q.take(2, at(1ms))), (std::vector<std::uint64_t>{1, 2}));
}

TEST(batch_queue, backoff_items_wait_for_ready_at) {
  batch_queue q{caps(10, 1'000'000, 0ms)};
  auto x = item(1, priority::normal);
  x.ready_at = at(100ms);
  q.push(x, at(0ms));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.ready(1, at(99ms)));
  EXPECT_EQ(q.next_wakeup(1, at(0ms)), at(100ms));
  EXPECT_TRUE(q.ready(1, at(100ms)));
}

TEST(batch_queue, removes_jobs_and_expired_items) {
  batch_queue q{caps(10, 1'000'000)};
  auto a = item(1, priority::normal, 10, 7);
  auto b = item(2, priority::normal, 10, 8);
  b.deadline = at(30ms);
  auto c = item(3, priority::normal, 10, 8);
  c.ready_at = at(500ms); // backing off, still removable
  q.push(a, at(0ms));
  q.push(b, at(0ms));
  q.push(c, at(0ms));
  EXPECT_TRUE(q.remove_expired(at(29ms)).empty());
  EXPECT_EQ(ids(q.remove_expired(at(30ms))), std::vector<std::uint64_t>{2});
  EXPECT_EQ(ids(q.remove_job(8)), std::vector<std::uint64_t>{3});
  EXPECT_EQ(q.size(), 1u);
}

RC_GTEST_PROP(batch_queue_property, batches_respect_caps_and_nothing_is_lost,
              ()) {
  auto max_items = *rc::gen::inRange<std::size_t>(1, 20);
  auto max_bytes = *rc::gen::inRange<std::size_t>(1, 200);
  batch_queue q{
    caps(max_items, max_bytes, 5ms, *rc::gen::inRange<std::uint32_t>(1, 6))};
  std::uint64_t pushed = 0, taken = 0, removed = 0, next_id = 1;
  auto now = at(0ms);
  auto steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    now += duration{*rc::gen::inRange<std::int64_t>(0, 3'000'000)};
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
      case 1: {
        auto x = item(next_id++, static_cast<priority>(*rc::gen::inRange(0, 4)),
                      *rc::gen::inRange<std::size_t>(0, max_bytes + 1),
                      *rc::gen::inRange<std::uint64_t>(1, 4));
        if (*rc::gen::inRange(0, 4) == 0)
          x.ready_at = now + duration{*rc::gen::inRange(0, 10'000'000)};
        if (*rc::gen::inRange(0, 4) == 0)
          x.deadline = now + duration{*rc::gen::inRange(1, 10'000'000)};
        q.push(x, now);
        ++pushed;
        break;
      }
      case 2: {
        auto b = q.take(*rc::gen::inRange<std::size_t>(1, 50), now);
        RC_ASSERT(b.size() <= max_items);
        std::size_t bytes = 0;
        for (const auto& x : b)
          bytes += x.bytes();
        RC_ASSERT(b.size() <= 1 || bytes <= max_bytes);
        taken += b.size();
        break;
      }
      case 3:
        removed += q.remove_job(*rc::gen::inRange<std::uint64_t>(1, 4)).size();
        break;
      default: removed += q.remove_expired(now).size();
    }
    RC_ASSERT(pushed == taken + removed + q.size());
  }
}
