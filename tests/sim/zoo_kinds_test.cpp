// Our pacer (static batches at the item cap, so flow control alone is
// judged) against each kind of the limiter zoo in virtual time, through
// the zoo's loop (sim/zoo.hpp): nothing lost, no retry storm, budget use
// and throttling within bounds; with rate-limit headers on the kinds that
// have a quota, no 429 at all. Bounds, not traces: docs/benchmarks.md has
// the measured figures.

#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "sim/zoo.hpp"

using namespace batching;
using namespace batching::sim;
using namespace std::chrono_literals;

namespace {

zoo_draw draw(budget_kind kind, header_style headers, retry_after_mode ra) {
  zoo_draw d;
  auto& c = d.api;
  c.budget = kind;
  c.rate = 8;
  c.burst = 8;
  c.window_requests = 80;
  c.window_seconds = 10;
  c.concurrency
    = kind == budget_kind::concurrency || kind == budget_kind::unlimited ? 4
                                                                         : 0;
  c.retry_after = ra;
  c.headers = headers;
  c.max_items_per_request = 100;
  c.max_payload_bytes = 1'000'000'000;
  c.base_latency = 100ms;
  c.per_item_latency = 1ms;
  c.seed = 11;
  d.seed = 11;
  auto full = 0.2 * std::exp(0.02); // a full request's mean latency (s)
  d.budget_requests = c.concurrency > 0 ? c.concurrency / full : 8;
  d.budget_items = d.budget_requests * 100;
  d.demand = 2 * d.budget_items; // a backlog
  d.knowledge = client_knowledge::none;
  d.slo_p99_ms = 2000;
  return d;
}

const zoo_strategy pacer_at_cap{"pacer@cap", strategy_kind::fixed,
                                flow_kind::pacer, true};

} // namespace

TEST(zoo_kinds, the_pacer_learns_every_kind_without_storms) {
  for (auto kind : {budget_kind::token_bucket, budget_kind::fixed_window,
                    budget_kind::sliding_log, budget_kind::sliding_counter,
                    budget_kind::counting_log, budget_kind::counting_counter,
                    budget_kind::nginx_delay, budget_kind::concurrency,
                    budget_kind::unlimited})
    for (auto ra : {retry_after_mode::rounded, retry_after_mode::absent}) {
      SCOPED_TRACE(to_string(kind) + " Retry-After " + to_string(ra));
      auto r = run_zoo(draw(kind, header_style::none, ra), pacer_at_cap);
      std::printf("zoo_kinds: %s, Retry-After %s: budget use %.3f, %.2f%% "
                  "throttled, storm ratio %.2f\n",
                  to_string(kind).c_str(), to_string(ra).c_str(),
                  r.budget_use.value_or(-1), 100 * r.throttle_rate,
                  r.storm_ratio);
      EXPECT_EQ(r.lost, 0u);
      EXPECT_FALSE(r.truncated);
      EXPECT_LE(r.storm_ratio, 1.0);
      ASSERT_TRUE(r.budget_use.has_value());
      // Regression bounds below what is measured (docs/benchmarks.md):
      // concurrency limits are paced by rate, which wastes part of them.
      EXPECT_GE(*r.budget_use, kind == budget_kind::concurrency ? 0.4 : 0.6);
      EXPECT_LE(r.throttle_rate, 0.05);
    }
}

TEST(zoo_kinds, advertised_quotas_are_spent_without_a_429) {
  // Buckets, fixed windows and nginx's leaky bucket: spent exactly, in
  // every header style. Sliding windows say "reset" where one slot frees,
  // not the quota: the advertised budget over-spends them (a few 429s,
  // then learning; docs/benchmarks.md lists it as open), bounded here
  // only against storms and loss.
  for (auto kind : {budget_kind::token_bucket, budget_kind::fixed_window,
                    budget_kind::nginx_delay, budget_kind::sliding_counter,
                    budget_kind::sliding_log, budget_kind::counting_log,
                    budget_kind::counting_counter})
    for (auto style : {header_style::ietf, header_style::ietf_draft7,
                       header_style::ietf_draft6, header_style::x_ratelimit,
                       header_style::x_ratelimit_epoch}) {
      SCOPED_TRACE(to_string(kind) + " " + to_string(style));
      auto r
        = run_zoo(draw(kind, style, retry_after_mode::rounded), pacer_at_cap);
      std::printf("zoo_kinds: %s with %s headers: budget use %.3f, %llu "
                  "throttled\n",
                  to_string(kind).c_str(), to_string(style).c_str(),
                  r.budget_use.value_or(-1),
                  static_cast<unsigned long long>(r.throttled));
      EXPECT_EQ(r.lost, 0u);
      EXPECT_LE(r.storm_ratio, 1.0);
      ASSERT_TRUE(r.budget_use.has_value());
      bool sliding = kind == budget_kind::sliding_counter
                     || kind == budget_kind::sliding_log
                     || kind == budget_kind::counting_log
                     || kind == budget_kind::counting_counter;
      if (!sliding) {
        EXPECT_EQ(r.throttled, 0u);
        EXPECT_GE(*r.budget_use, 0.98);
      } else {
        EXPECT_LE(r.throttle_rate, 0.05);
        EXPECT_GE(*r.budget_use, 0.2);
      }
    }
}
