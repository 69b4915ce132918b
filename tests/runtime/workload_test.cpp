// The workload arrival process: rates, phases, bursts, ids, determinism.

#include <cmath>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/workload.hpp"

using namespace batching;

namespace {

/// Operations arriving in [from, to) seconds.
std::size_t items_between(arrival_process& p, double from, double to) {
  std::size_t n = 0;
  for (auto a = p.next(); a.at_s < to; a = p.next())
    if (a.at_s >= from)
      n += a.operations.size();
  return n;
}

workload_plan plan(arrival_kind kind, double rate) {
  workload_plan w;
  w.arrival = kind;
  w.rate = rate;
  w.job_size = 10;
  return w;
}

} // namespace

TEST(workload, constant_arrivals_are_exact) {
  arrival_process p{plan(arrival_kind::constant, 100), 0, 1, 0};
  EXPECT_EQ(items_between(p, 0, 10.001), 1000u);
}

TEST(workload, poisson_arrivals_average_the_rate) {
  arrival_process p{plan(arrival_kind::poisson, 100), 0, 1, 0};
  auto n = static_cast<double>(items_between(p, 0, 100));
  EXPECT_NEAR(n, 10'000, 500); // 5 standard deviations of 1000 jobs
}

TEST(workload, phases_change_the_rate_and_users_share_it) {
  auto w = plan(arrival_kind::constant, 100);
  w.phases = {{10, 1000}, {20, 0}};
  w.users = 2;
  arrival_process p{w, 1, 1, 0};
  EXPECT_DOUBLE_EQ(p.rate_at(5), 100);
  EXPECT_DOUBLE_EQ(p.rate_at(15), 1000);
  auto n = items_between(p, 0, 30);
  EXPECT_NEAR(static_cast<double>(n), (100 * 10 + 1000 * 10) / 2.0, 20);
}

TEST(workload, a_ramp_interpolates_between_phases) {
  auto w = plan(arrival_kind::ramp, 0);
  w.phases = {{100, 200}};
  arrival_process p{w, 0, 1, 0};
  EXPECT_DOUBLE_EQ(p.rate_at(50), 100);
  auto first_half = static_cast<double>(items_between(p, 0, 50));
  EXPECT_NEAR(first_half, 2'500, 400); // the integral of the ramp
}

TEST(workload, bursts_arrive_at_once) {
  auto w = plan(arrival_kind::bursts, 0);
  w.burst_every_s = 10;
  w.burst_items = 55;
  arrival_process p{w, 0, 1, 0};
  auto a = p.next();
  EXPECT_DOUBLE_EQ(a.at_s, 10);
  std::size_t n = a.operations.size();
  for (a = p.next(); a.at_s == 10; a = p.next())
    n += a.operations.size();
  EXPECT_EQ(n, 55u);
  EXPECT_DOUBLE_EQ(a.at_s, 20);
}

TEST(workload, payloads_and_priorities_follow_the_plan) {
  auto w = plan(arrival_kind::constant, 1000);
  w.payload_bytes = {100, 200};
  w.priorities = {0, 1, 0, 1};
  arrival_process p{w, 0, 3, 0};
  std::set<priority> seen;
  for (int i = 0; i < 200; ++i) {
    auto a = p.next();
    seen.insert(a.prio);
    for (const auto& op : a.operations) {
      EXPECT_GE(op.payload.size(), 100u);
      EXPECT_LE(op.payload.size(), 200u);
    }
  }
  EXPECT_EQ(seen, (std::set<priority>{priority::high, priority::low}));
}

RC_GTEST_PROP(workload_property, arrivals_are_ordered_unique_and_seeded, ()) {
  auto w = plan(*rc::gen::element(arrival_kind::constant, arrival_kind::poisson,
                                  arrival_kind::bursts, arrival_kind::ramp),
                *rc::gen::inRange(0, 500));
  w.job_size = *rc::gen::inRange(1, 50);
  w.burst_items = *rc::gen::inRange(0, 300);
  w.phases
    = {{*rc::gen::inRange(1, 20) * 1.0, *rc::gen::inRange(0, 500) * 1.0}};
  auto seed = *rc::gen::arbitrary<std::uint64_t>();
  arrival_process a{w, 0, seed, 1'000}, b{w, 0, seed, 1'000};
  double last = 0;
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 200; ++i) {
    auto x = a.next();
    auto y = b.next();
    RC_ASSERT(x.at_s == y.at_s);
    RC_ASSERT(x.operations == y.operations);
    if (!std::isfinite(x.at_s))
      break;
    RC_ASSERT(x.at_s >= last);
    last = x.at_s;
    for (const auto& op : x.operations)
      RC_ASSERT(ids.insert(op.id).second);
  }
}
