// The limiter zoo's invariants (sim/limiter.hpp) as properties over random
// parameters and arrival patterns: no limiter ever admits more than its
// budget in any window, and every rejection's Retry-After truth is right
// (a request at that time is admitted, absent other traffic).

#include <algorithm>
#include <cmath>
#include <map>
#include <rapidcheck.h>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/limiter.hpp"
#include "sim/rate_limited_api.hpp"

using namespace batching;
using namespace batching::sim;
using namespace std::chrono_literals;

namespace {

time_point at_s(double s) { return time_point{} + from_seconds(s); }

/// The most timestamps in any half-open span [t, t + span), in whole
/// microseconds (what the limiter saw).
std::size_t most_in_span(const std::vector<double>& ts, double span) {
  auto us = [](double x) { return std::llround(x * 1e6); };
  std::size_t best = 0, from = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    while (us(ts[i]) - us(ts[from]) >= us(span))
      ++from;
    best = std::max(best, i - from + 1);
  }
  return best;
}

limiter::config random_config(budget_kind kind) {
  limiter::config c;
  c.kind = kind;
  c.rate = *rc::gen::inRange(1, 200) / 4.0; // 0.25-50 requests/s
  c.burst = *rc::gen::inRange(1, 50);
  c.window_requests = *rc::gen::inRange<std::uint32_t>(1, 200);
  c.window_seconds = *rc::gen::inRange(1, 60);
  c.concurrency = *rc::gen::inRange<std::uint32_t>(1, 20);
  return c;
}

} // namespace

RC_GTEST_PROP(limiter_property, never_admits_more_than_its_budget, ()) {
  auto kind = *rc::gen::element(
    budget_kind::token_bucket, budget_kind::fixed_window,
    budget_kind::sliding_log, budget_kind::sliding_counter,
    budget_kind::counting_log, budget_kind::counting_counter,
    budget_kind::nginx_delay, budget_kind::concurrency);
  auto cfg = random_config(kind);
  limiter l{cfg, at_s(0)};
  // Bursty arrivals: gaps of 0-2 s, often 0 (a volley).
  auto gaps = *rc::gen::container<std::vector<int>>(
    *rc::gen::inRange<std::size_t>(1, 3000), rc::gen::inRange(0, 2000));
  std::vector<double> admitted, served_from, served_to;
  double now = 0;
  for (auto g : gaps) {
    // Whole microseconds: the limiter and these checks see the same time.
    now += g < 1000 ? 0 : (g - 1000) * 2e-3;
    now = std::round(now * 1e6) / 1e6;
    auto d = l.admit(at_s(now));
    RC_ASSERT(d.retry_after >= duration{0});
    if (!d.admitted) {
      // The truth: later than now, and within what the budget can need.
      RC_ASSERT(to_seconds(d.retry_after)
                <= std::max({cfg.window_seconds, cfg.burst / cfg.rate + 1,
                             cfg.window_seconds * 2, 1 / cfg.rate + 1, 5.0})
                     + 1e-6);
      continue;
    }
    admitted.push_back(now);
    if (kind == budget_kind::concurrency) {
      auto end = std::round((now + 0.05 + (g % 7) * 0.3) * 1e6) / 1e6;
      // Never more than c being served at once.
      std::size_t busy = 0;
      for (std::size_t i = 0; i < served_from.size(); ++i)
        busy += served_to[i] > now ? 1 : 0;
      RC_ASSERT(busy < cfg.concurrency);
      served_from.push_back(now);
      served_to.push_back(end);
      l.finish_at(at_s(end));
    }
    if (kind == budget_kind::nginx_delay)
      RC_ASSERT(to_seconds(d.hold) <= cfg.burst / cfg.rate + 1e-6);
  }
  auto w = cfg.window_seconds;
  auto n = static_cast<std::size_t>(cfg.window_requests);
  switch (kind) {
    case budget_kind::token_bucket:
      for (double span : {0.5, 1.0, 5.0, 30.0})
        RC_ASSERT(static_cast<double>(most_in_span(admitted, span))
                  <= cfg.burst + cfg.rate * span + 1e-6);
      break;
    case budget_kind::nginx_delay:
      for (double span : {0.5, 1.0, 5.0, 30.0})
        RC_ASSERT(static_cast<double>(most_in_span(admitted, span))
                  <= cfg.burst + 1 + cfg.rate * span + 1e-6);
      break;
    case budget_kind::sliding_log:
    case budget_kind::counting_log:
      RC_ASSERT(most_in_span(admitted, w) <= n);
      break;
    case budget_kind::fixed_window:
    case budget_kind::sliding_counter:
    case budget_kind::counting_counter: {
      std::map<long, std::size_t> per_window;
      for (auto t : admitted)
        ++per_window[static_cast<long>(t / w)];
      for (const auto& [_, count] : per_window)
        RC_ASSERT(count <= n);
      break;
    }
    default: break;
  }
}

RC_GTEST_PROP(limiter_property, retry_after_truth_admits_a_lone_request, ()) {
  // Fill the limiter with a volley, then one request at exactly the
  // Retry-After of the first rejection passes (nothing else arrived).
  auto kind = *rc::gen::element(
    budget_kind::token_bucket, budget_kind::fixed_window,
    budget_kind::sliding_log, budget_kind::sliding_counter,
    budget_kind::counting_log, budget_kind::counting_counter,
    budget_kind::nginx_delay);
  auto cfg = random_config(kind);
  limiter l{cfg, at_s(0)};
  auto start = *rc::gen::inRange(0, 100) / 10.0;
  limiter::decision d;
  for (int i = 0; i < 10'000 && (d = l.admit(at_s(start))).admitted; ++i) {
  }
  RC_ASSERT(!d.admitted);
  auto again = start + to_seconds(d.retry_after) + 1e-6;
  RC_ASSERT(l.admit(at_s(again)).admitted);
}

TEST(limiter, counting_log_stays_shut_while_hammered) {
  // 10 per 10 s, counting rejections: one request per 0.5 s never lets the
  // log drain below the limit, so after the first 10 nothing passes.
  limiter l{{budget_kind::counting_log, 1, 1, 10, 10, 1}, at_s(0)};
  int admitted = 0;
  for (int i = 0; i < 200; ++i)
    admitted += l.admit(at_s(i * 0.5)).admitted ? 1 : 0;
  EXPECT_EQ(admitted, 10);
  // A sliding log that counts only admissions lets 10 through per 10 s.
  limiter s{{budget_kind::sliding_log, 1, 1, 10, 10, 1}, at_s(0)};
  admitted = 0;
  for (int i = 0; i < 200; ++i)
    admitted += s.admit(at_s(i * 0.5)).admitted ? 1 : 0;
  EXPECT_EQ(admitted, 100);
}

TEST(limiter, a_sliding_counter_sustains_one_less_than_its_quota) {
  // The budget a counter allows (sustainable_rate): N - 1 evenly spaced
  // per window all pass, for ever; a sender that takes every slot the
  // instant it opens (polled each millisecond) gets no more than
  // max(N - 1, N / 2) per window over 100 windows, plus one window's N.
  for (auto kind :
       {budget_kind::sliding_counter, budget_kind::counting_counter})
    for (std::uint32_t n : {1u, 2u, 3u, 5u, 10u}) {
      limiter::config c{kind, 1, 1, n, 2, 1};
      limiter probe{c, at_s(0)};
      auto per_window = std::max(n - 1.0, n / 2.0);
      EXPECT_DOUBLE_EQ(probe.sustainable_rate(), per_window / 2) << n;
      EXPECT_DOUBLE_EQ(probe.documented_rate(), n / 2.0) << n;
      if (n >= 2) {
        limiter even{c, at_s(0)};
        int admitted = 0;
        for (int k = 0; k < 100; ++k)
          for (std::uint32_t j = 0; j + 1 < n; ++j)
            admitted += even.admit(at_s(2 * (k + (j + 0.5) / (n - 1)))).admitted
                          ? 1
                          : 0;
        EXPECT_EQ(admitted, 100 * static_cast<int>(n - 1)) << n;
      }
      limiter greedy{c, at_s(0)};
      int admitted = 0;
      for (int ms = 0; ms < 200'000; ++ms)
        if (greedy.has_room(at_s(ms / 1000.0)))
          admitted += greedy.admit(at_s(ms / 1000.0)).admitted ? 1 : 0;
      EXPECT_LE(admitted, 100 * per_window + n) << n;
      EXPECT_GE(admitted, 100 * per_window - n) << n;
    }
}

TEST(limiter, nginx_delays_within_its_burst_and_rejects_beyond) {
  // rate 2/s, burst 4: a volley of 10 at t = 0 -> 5 admitted (held 0, 0.5,
  // ..., 2 s), 5 rejected.
  limiter l{{budget_kind::nginx_delay, 2, 4, 1, 1, 1}, at_s(0)};
  std::vector<double> holds;
  int rejected = 0;
  for (int i = 0; i < 10; ++i) {
    auto d = l.admit(at_s(0));
    if (d.admitted)
      holds.push_back(to_seconds(d.hold));
    else
      ++rejected;
  }
  EXPECT_EQ(rejected, 5);
  ASSERT_EQ(holds.size(), 5u);
  EXPECT_DOUBLE_EQ(holds.back(), 2.0);
}

TEST(limiter, other_tenants_spend_part_of_the_budget) {
  rate_limited_api::config c;
  c.budget = budget_kind::token_bucket;
  c.rate = 10;
  c.burst = 10;
  c.tenant_share = 0.5;
  c.tenant_period_s = 60;
  rate_limited_api api{c, at_s(0)};
  // Ask for a request every 50 ms for 600 s: the tenants take about a
  // quarter of 10/s on average, we get the rest.
  for (int i = 0; i < 12'000; ++i)
    api.serve(1, 10, at_s(i * 0.05));
  auto tenants = static_cast<double>(api.tenant_accepted());
  EXPECT_NEAR(tenants / 600, 2.5, 0.5);
  EXPECT_NEAR(static_cast<double>(api.accepted()) / 600, 7.5, 0.6);
}
