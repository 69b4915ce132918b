// The simulated Notion-like API: its budget, caps, outages and latency, and
// the real topology running against it in virtual time.

#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/system/topology.hpp"
#include "sim/delayed_executor.hpp"
#include "sim/rate_limited_api.hpp"

#include "tests/actors/actor_fixture.hpp"
#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace batching::sim;
using namespace batching::testing_support;
using namespace std::chrono_literals;

namespace {

batch request(std::size_t items, std::size_t bytes = 10) {
  batch b;
  b.batch_id = 1;
  for (std::size_t i = 0; i < items; ++i)
    b.operations.push_back({i, std::string(bytes, 'x')});
  return b;
}

rate_limited_api::config notion() {
  rate_limited_api::config cfg;
  cfg.jitter_sigma = 0;
  return cfg;
}

} // namespace

TEST(rate_limited_api, token_bucket_throttles_with_an_integer_retry_after) {
  rate_limited_api api{notion(), at(0s)};
  for (int i = 0; i < 3; ++i) // the burst
    EXPECT_EQ(api.serve(request(10), at(0s)).outcome.status, batch_status::ok);
  auto a = api.serve(request(10), at(0s));
  EXPECT_EQ(a.outcome.status, batch_status::throttled);
  EXPECT_EQ(a.outcome.retry_after, 1s); // 1/3 s rounded up
  EXPECT_EQ(api.serve(request(10), at(334ms)).outcome.status, batch_status::ok);
  EXPECT_EQ(api.throttled(), 1u);
  EXPECT_EQ(api.accepted_items(), 40u);
}

TEST(rate_limited_api, fixed_window_resets_each_window) {
  auto cfg = notion();
  cfg.budget = budget_kind::fixed_window;
  cfg.window_requests = 2;
  cfg.window_seconds = 60;
  rate_limited_api api{cfg, at(0s)};
  api.serve(request(1), at(1s));
  api.serve(request(1), at(2s));
  auto a = api.serve(request(1), at(10s));
  EXPECT_EQ(a.outcome.status, batch_status::throttled);
  EXPECT_EQ(a.outcome.retry_after, 50s);
  EXPECT_EQ(api.serve(request(1), at(60s)).outcome.status, batch_status::ok);
}

TEST(rate_limited_api, oversize_requests_fail_permanently) {
  auto cfg = notion();
  cfg.max_payload_bytes = 100;
  rate_limited_api api{cfg, at(0s)};
  EXPECT_EQ(api.serve(request(101), at(0s)).outcome.status,
            batch_status::permanent_failure);
  EXPECT_EQ(api.serve(request(11, 10), at(0s)).outcome.status,
            batch_status::permanent_failure); // 110 bytes
  EXPECT_EQ(api.accepted(), 0u);
}

TEST(rate_limited_api, outages_answer_503_and_latency_grows_with_items) {
  auto cfg = notion();
  cfg.outages = {{10s, 40s, batch_status::retryable_failure}};
  rate_limited_api api{cfg, at(0s)};
  EXPECT_EQ(api.serve(request(1), at(20s)).outcome.status,
            batch_status::retryable_failure);
  auto a = api.serve(request(50), at(40s));
  EXPECT_EQ(a.outcome.status, batch_status::ok);
  EXPECT_EQ(a.delay, 150ms + 50 * 2ms);
}

TEST(rate_limited_api, a_concurrency_limit_queues_requests) {
  auto cfg = notion();
  cfg.rate = 1000;
  cfg.burst = 1000;
  cfg.concurrency = 1;
  rate_limited_api api{cfg, at(0s)};
  auto first = api.serve(request(0), at(0s));
  auto second = api.serve(request(0), at(0s));
  EXPECT_EQ(first.delay, 150ms);
  EXPECT_EQ(second.delay, 300ms); // waits for the first
}

RC_GTEST_PROP(rate_limited_api_property, never_accepts_over_the_budget, ()) {
  auto cfg = notion();
  cfg.rate = *rc::gen::inRange(1, 20);
  cfg.burst = *rc::gen::inRange(1, 10);
  cfg.seed = *rc::gen::arbitrary<std::uint64_t>();
  rate_limited_api api{cfg, at(0s)};
  auto now = at(0s);
  std::vector<time_point> accepted;
  auto n = *rc::gen::inRange(1, 300);
  for (int i = 0; i < n; ++i) {
    now += std::chrono::milliseconds{*rc::gen::inRange(0, 500)};
    if (api.serve(request(1), now).outcome.status == batch_status::ok)
      accepted.push_back(now);
  }
  // In any window of length w, at most burst + rate * w acceptances.
  for (std::size_t i = 0; i < accepted.size(); ++i)
    for (std::size_t j = i; j < accepted.size(); ++j) {
      auto w = to_seconds(accepted[j] - accepted[i]);
      RC_ASSERT(static_cast<double>(j - i + 1)
                <= cfg.burst + cfg.rate * w + 1e-9);
    }
}

namespace {

class notion_run : public actor_fixture {};

} // namespace

// The real topology against the simulated API (3 requests/s, burst 3, 100
// items per request): a backlog of 6,000 writes drains completely, and the
// figures are printed for docs/benchmarks.md.
TEST_F(notion_run, a_backlog_drains_through_a_three_per_second_budget) {
  rate_limited_api::config api_cfg;
  api_cfg.seed = 7;
  auto api = std::make_shared<rate_limited_api>(api_cfg, now());
  auto exec = spawn_scripted(
    [api, this](const batch& b) { return api->serve(b, now()); });
  runtime_config cfg;
  for (auto& [_, op] : cfg.operation_configs)
    op.strategy = strategy_kind::adaptive;
  auto t = spawn_topology(sys, cfg, {{"default", exec}}, nullptr);
  track(t.coordinator);
  for (auto& [_, b] : t.batchers)
    track(b);
  for (auto& [_, g] : t.gates)
    track(g);
  std::vector<operation> ops;
  for (std::uint64_t i = 0; i < 6000; ++i)
    ops.push_back({i, std::string(200, 'x')});
  auto start = now();
  auto id = ask<std::uint64_t>(
    t.coordinator, submit_atom::value,
    job_submission{"write", priority::normal, std::move(ops), {}});
  ASSERT_TRUE(id);
  job_status s;
  for (int i = 0; i < 600; ++i) {
    advance(1s);
    s = *ask<job_status>(t.coordinator, status_atom::value, *id);
    if (s.succeeded + s.failed + s.cancelled == s.total)
      break;
  }
  EXPECT_EQ(s.succeeded, 6000u);
  auto secs = to_seconds(s.finished_at - start);
  auto goodput = 6000 / secs;
  auto throttle_rate = static_cast<double>(api->throttled()) / api->requests();
  std::cout << "notion backlog: " << secs << " s, goodput " << goodput
            << " items/s (ideal 300), requests " << api->requests()
            << ", throttled " << api->throttled() << " (" << 100 * throttle_rate
            << "%)\n";
  // Loose bounds that still catch a broken pacer or batcher: at least 60%
  // of the budget's goodput and at most 10% of requests throttled.
  EXPECT_GE(goodput, 0.6 * 300);
  EXPECT_LE(throttle_rate, 0.10);
}
