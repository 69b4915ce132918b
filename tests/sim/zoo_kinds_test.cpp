// Our pacer (static batches at the item cap, so flow control alone is
// judged) against each kind of the limiter zoo in virtual time, through
// the zoo's loop (sim/zoo.hpp): nothing lost, no retry storm, budget use
// and throttling within bounds; with rate-limit headers on the kinds that
// have a quota, no 429 at all. Bounds, not traces: docs/benchmarks.md has
// the measured figures.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

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

/// A draw rebuilt from bench zoo's: `kind` behind `headers`, its item
/// cap, latency and seed, the budget `requests_per_s` full requests.
zoo_draw rebuilt(budget_kind kind, header_style headers, retry_after_mode ra,
                 std::uint32_t cap, duration base, duration per_item,
                 double requests_per_s, std::uint64_t seed) {
  auto d = draw(kind, headers, ra);
  d.api.max_items_per_request = cap;
  d.api.base_latency = base;
  d.api.per_item_latency = per_item;
  d.api.seed = seed;
  d.seed = seed;
  d.budget_requests = requests_per_s;
  d.budget_items = requests_per_s * cap;
  return d;
}

/// `d` fed `demand` items/s in bursts every `every_s`, under `adaptive`:
/// nothing lost, at most `throttled` 429s, at least 95% of the demand
/// served. `what` names the case in the printed figures.
void expect_bursts_served(zoo_draw d, double demand, double every_s,
                          const std::string& what, std::uint64_t throttled) {
  d.shape = demand_shape::bursty;
  d.demand = demand;
  d.burst_every_s = every_s;
  auto r = run_zoo(d, zoo_strategies()[0]);
  std::printf("zoo_kinds: %s: %llu throttled, goodput %.0f items/s of %.0f "
              "asked\n",
              what.c_str(), static_cast<unsigned long long>(r.throttled),
              r.goodput, d.demand);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_LE(r.throttled, throttled);
  EXPECT_GE(r.goodput, 0.95 * d.demand);
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

// `ml` in the zoo learns as in the runtime: sample windows close, the
// model trains and, once confident, advises sizing; strategies that do not
// learn close no windows. Nothing is lost either way.
TEST(zoo_learning, ml_closes_windows_trains_and_takes_advice) {
  auto d = draw(budget_kind::token_bucket, header_style::none,
                retry_after_mode::rounded);
  const auto& all = zoo_strategies();
  auto ml = std::find_if(all.begin(), all.end(),
                         [](const auto& s) { return s.name == "ml"; });
  ASSERT_NE(ml, all.end());
  auto r = run_zoo(d, *ml);
  std::printf("zoo_learning: ml %llu samples, %llu advised, budget use "
              "%.3f\n",
              static_cast<unsigned long long>(r.samples),
              static_cast<unsigned long long>(r.advised),
              r.budget_use.value_or(-1));
  EXPECT_EQ(r.lost, 0u);
  // 8 requests/s for 600 s: a window closes every 0.5 s (>= 4 answers).
  EXPECT_GT(r.samples, 500u);
  EXPECT_GT(r.advised, 0u);
  EXPECT_LE(r.advised, r.samples);
  auto plain = run_zoo(d, all.front()); // adaptive
  EXPECT_EQ(plain.samples, 0u);
  EXPECT_EQ(plain.lost, 0u);
}

// A replica is the same draw with other luck: parameters kept, streams
// reseeded (distinct per replica and per draw); replica 0 is the draw.
TEST(zoo_learning, replicas_keep_the_draw_and_change_its_luck) {
  auto draws = draw_zoo(3, 2);
  auto r0 = reseeded(draws[0], 0), r1 = reseeded(draws[0], 1),
       r2 = reseeded(draws[0], 2), other = reseeded(draws[1], 1);
  EXPECT_EQ(r0.seed, draws[0].seed);
  EXPECT_NE(r1.seed, draws[0].seed);
  EXPECT_NE(r1.seed, r2.seed);
  EXPECT_NE(r1.seed, other.seed);
  EXPECT_EQ(r1.api.seed, r1.seed);
  EXPECT_EQ(r1.index, draws[0].index);
  EXPECT_DOUBLE_EQ(r1.api.rate, draws[0].api.rate);
  EXPECT_DOUBLE_EQ(r1.demand, draws[0].demand);
  EXPECT_DOUBLE_EQ(r1.budget_items, draws[0].budget_items);
  auto s = zoo_strategies().front();
  auto a = run_zoo(r0, s), b = run_zoo(r1, s);
  EXPECT_NE(a.goodput, b.goodput);              // other luck, another run
  EXPECT_EQ(run_zoo(r1, s).goodput, b.goodput); // the same luck, the same
}

// Ahead means beyond both strategies' seed spread on that draw.
TEST(zoo_learning, ahead_only_beyond_the_seed_spread) {
  auto run = [](std::size_t draw, const char* name, double goodput) {
    zoo_run r;
    r.draw = draw;
    r.strategy = name;
    r.goodput = goodput;
    return r;
  };
  std::vector<zoo_run> runs{
    // draw 0: a 100/104 (spread 4), b 90/92: a ahead by 11 > 4
    run(0, "a", 100), run(0, "a", 104), run(0, "b", 90), run(0, "b", 92),
    // draw 1: a 100/100, b 95/105 (spread 10): the means are equal
    run(1, "a", 100), run(1, "a", 100), run(1, "b", 95), run(1, "b", 105),
    // draw 2: b ahead by 20, spreads 2
    run(2, "a", 80), run(2, "a", 82), run(2, "b", 101), run(2, "b", 101),
    // draw 3: one replica only: not compared
    run(3, "a", 1), run(3, "b", 100), run(3, "b", 100),
    // draw 4: no spread, but within 1%: a tie
    run(4, "a", 100), run(4, "a", 100), run(4, "b", 100.9), run(4, "b", 100.9)};
  auto c = compare_beyond_spread(runs, "a", "b");
  EXPECT_EQ(c.draws, 4u);
  EXPECT_EQ(c.a_ahead, std::vector<std::size_t>{0});
  EXPECT_EQ(c.b_ahead, std::vector<std::size_t>{2});
}

// oracle_tenants, a bound beyond any client: it also knows the other
// tenants' mean rate at each instant and paces at a share of what they
// leave. Where they take up to 60% of a bucket, that knowledge alone does
// not remove the races for its tokens; it is named, never in `all`.
TEST(zoo_oracles, oracle_tenants_paces_at_what_the_others_leave) {
  const auto& all = zoo_strategies();
  auto find = [&](const char* name) {
    return *std::find_if(all.begin(), all.end(),
                         [&](const auto& s) { return s.name == name; });
  };
  ASSERT_EQ(all.back().name, "oracle"); // added last when not named
  auto d = draw(budget_kind::token_bucket, header_style::none,
                retry_after_mode::rounded);
  d.api.tenant_share = 0.6;
  d.api.tenant_period_s = 60;
  d.budget_requests = 8 * (1 - 0.6 / 2);
  d.budget_items = d.budget_requests * 100;
  d.demand = 2 * d.budget_items;
  auto knowing = run_zoo(d, find("oracle_tenants"));
  auto oracle = run_zoo(d, find("oracle"));
  std::printf("zoo_oracles: tenants up to 60%% of a bucket: oracle_tenants "
              "budget use %.3f, 429s %.2f%%; oracle %.3f, %.2f%%\n",
              knowing.budget_use.value_or(-1), 100 * knowing.throttle_rate,
              oracle.budget_use.value_or(-1), 100 * oracle.throttle_rate);
  EXPECT_EQ(knowing.lost, 0u);
  EXPECT_LE(knowing.storm_ratio, 1);
  // Acceptable at 90% of the budget and more: the static oracle is not
  // (2.5% of 429s), nor would any static rate that reached as much be.
  EXPECT_LE(knowing.throttle_rate, 0.01);
  EXPECT_GE(knowing.budget_use.value_or(0), 0.9);
  EXPECT_GT(oracle.throttle_rate, 0.01);
  // Without tenants it is the static oracle over a wider range of rates.
  d.api.tenant_share = 0;
  d.budget_requests = 8;
  d.budget_items = 800;
  d.demand = 1600;
  auto solo = run_zoo(d, find("oracle_tenants"));
  EXPECT_GE(solo.budget_use.value_or(0),
            run_zoo(d, find("oracle")).budget_use.value_or(1) - 0.01);
}

TEST(zoo_kinds, a_refill_estimate_is_not_spent_in_volleys) {
  // A sliding counter of 263 per 4 s (65.5/s) behind X-RateLimit headers
  // (no window advertised), fed in bursts every 34 s, 21 ms away: its r
  // rises as the last window's weight decays, which reads as a bucket's
  // refill (measured 27/s). The tokens that estimate accrued went as a
  // volley once the answers showed none left: 20 429s at a time, every
  // burst (159 in 600 s at seed 53000311, bench zoo seed 53 draw 152).
  // Once a 429 cut the estimate, what it alone accrues goes at most at
  // the estimated rate, evenly: 24-28 429s (158, 28 and 192 before).
  for (std::uint64_t seed : {53000311u, 1u, 2u}) {
    auto d
      = rebuilt(budget_kind::sliding_counter, header_style::x_ratelimit,
                retry_after_mode::rounded, 476, 20802us, 17173ns, 65.5, seed);
    d.api.window_requests = 263;
    d.api.window_seconds = 4;
    expect_bursts_served(
      d, 12879.2, 34.3827,
      "a sliding counter taken for a bucket, seed " + std::to_string(seed), 40);
  }
}

TEST(zoo_kinds, a_fixed_window_taken_for_a_bucket_keeps_its_quota) {
  // Fixed windows behind X-RateLimit-* headers (no window advertised),
  // fed in bursts, the client told twice the rate (bench zoo seed 31 draw
  // 172 and seed 28 draw 20): r rising between answers reads as a refill,
  // and the bucket's level sent q and more within one window (11 and 13
  // 429s). Refilling where the whole quota was once left, q sends per the
  // longest t seen (at least the window) never overrun it: none.
  struct window_case {
    std::uint32_t n, w; // requests per whole seconds
    double rate;
    header_style style;
    retry_after_mode ra;
    std::uint32_t cap;
    double base_s, per_item_s, demand, every_s;
    std::uint64_t seed;
  };
  for (const auto& k :
       {window_case{102, 4, 25.5, header_style::x_ratelimit,
                    retry_after_mode::exact, 64, 0.0511, 0.00133, 1204.33, 32.1,
                    31000265},
        window_case{202, 8, 25.25, header_style::x_ratelimit_epoch,
                    retry_after_mode::absent, 423, 0.0636, 0.000244, 6691.6,
                    24.0, 28000104}}) {
    auto d = rebuilt(budget_kind::fixed_window, k.style, k.ra, k.cap,
                     from_seconds(k.base_s), from_seconds(k.per_item_s), k.rate,
                     k.seed);
    d.api.window_requests = k.n;
    d.api.window_seconds = k.w;
    d.knowledge = client_knowledge::high;
    d.declared_rate = 2 * k.rate;
    expect_bursts_served(d, k.demand, k.every_s,
                         "a fixed window of " + std::to_string(k.n) + " per "
                           + std::to_string(k.w) + " s behind "
                           + to_string(k.style),
                         0);
  }
}

TEST(zoo_kinds, a_small_buckets_refill_estimate_stays_bracketed) {
  // A bucket of 3 at 9.4/s behind X-RateLimit-Reset as a Unix time, told
  // its rate, a backlog, 1.25 s away plus 69 ms an item (bench zoo seed 56
  // draw 36). A bucket this small shows full at its very refill rate, so
  // the estimate grew; each 429 cut it and growth went halfway back to the
  // rate that overran, reaching it in floating point after ~50 steps,
  // which read as a budget that grew: a 429 a minute. Within 1% of that
  // rate growth stops; only a refill measured past it shows the budget
  // grew. Over six seeds 169 429s before (22 at that draw's seed), 128
  // now (6); other overruns remain (19-35 on four seeds).
  std::uint64_t throttled = 0;
  for (std::uint64_t seed : {56000204u, 1u, 2u, 3u, 4u, 5u}) {
    auto d
      = rebuilt(budget_kind::token_bucket, header_style::x_ratelimit_epoch,
                retry_after_mode::exact, 28, 1252ms, 69098us, 9.39155, seed);
    d.api.rate = 9.39155;
    d.api.burst = 3;
    d.demand = 653.675;
    d.knowledge = client_knowledge::right;
    d.declared_rate = d.api.rate;
    auto r = run_zoo(d, zoo_strategies()[0]);
    std::printf("zoo_kinds: a bucket of 3 at 9.4/s behind X-RateLimit, seed "
                "%llu: %llu throttled, budget use %.3f\n",
                static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(r.throttled),
                r.budget_use.value_or(-1));
    EXPECT_EQ(r.lost, 0u);
    ASSERT_TRUE(r.budget_use.has_value());
    EXPECT_GE(*r.budget_use, 0.92);
    throttled += r.throttled;
  }
  EXPECT_LE(throttled, 140u);
}

TEST(zoo_kinds, a_step_the_in_flight_limit_held_back_is_not_taken) {
  // nginx's delaying bucket at 85.5/s (burst 5) behind 32 requests in
  // flight of 0.68 s each (bench zoo seed 36 draw 140): the in-flight
  // limit holds the sends at ~46/s, so epochs passed while r doubled to
  // 188/s. After an idle spell a burst's 32 requests went at once, 12
  // came back 429 in 0.1 s, and each grew the backoff to its 60 s cap:
  // a volley and a minute's silence, again and again (122 of 1,308
  // requests throttled, 597 items/s served of 6,964 asked). A step is
  // taken only after an epoch the in-flight limit never held back.
  auto d = draw_zoo(36, 141)[140];
  ASSERT_EQ(d.api.budget, budget_kind::nginx_delay);
  expect_bursts_served(d, d.demand, d.burst_every_s,
                       "nginx's delaying bucket behind the in-flight limit",
                       10);
}

/// `bench zoo --seed seed` draw k (its kind checked first), run by the
/// default strategy: nothing lost, at least min_use of the budget (where
/// demand exceeds it; 0: a draw whose demand stays below it), at most
/// max_throttled 429s, and 90% of the budget within max_t90_s (0: not
/// checked). Returns the run for further checks.
std::optional<zoo_run> expect_draw_within(std::uint64_t seed, std::size_t k,
                                          budget_kind kind, const char* what,
                                          double min_use,
                                          std::uint64_t max_throttled,
                                          double max_t90_s = 0) {
  auto d = draw_zoo(seed, k + 1)[k];
  EXPECT_EQ(d.api.budget, kind);
  if (d.api.budget != kind)
    return std::nullopt;
  auto r = run_zoo(d, zoo_strategies()[0]);
  std::printf("zoo_kinds: %s: %llu throttled, budget use %.3f, storm ratio "
              "%.2f, 90%% after %.0f s\n",
              what, static_cast<unsigned long long>(r.throttled),
              r.budget_use.value_or(-1), r.storm_ratio,
              r.time_to_90pct_s.value_or(-1));
  EXPECT_EQ(r.lost, 0u);
  if (min_use > 0) {
    EXPECT_TRUE(r.budget_use.has_value());
    EXPECT_GE(r.budget_use.value_or(0), min_use);
  }
  EXPECT_LE(r.throttled, max_throttled);
  if (max_t90_s > 0) {
    EXPECT_TRUE(r.time_to_90pct_s.has_value());
    EXPECT_LE(r.time_to_90pct_s.value_or(max_t90_s + 1), max_t90_s);
  }
  return r;
}

TEST(zoo_kinds, a_sliding_counters_grid_is_pinned_across_windows) {
  // A sliding counter of 4 per 3 s behind IETF draft 6 headers, fed 19.2
  // items/s of 18-item requests (just above its budget of one a second),
  // told 0.67/s (bench zoo seed 64 draw 107). Each window's few answers
  // placed its start within a second (t rounded up), so a third of the
  // window's sends was left out of what frees in the next: 0.73 of the
  // budget; and a window with one answer broke the alignment, the bucket
  // rule took over and sent what the counter still carried (14 429s, 0.90
  // before both). Every answer's end, moved by whole windows, narrows the
  // phase; one answer no longer breaks it.
  expect_draw_within(64, 107, budget_kind::sliding_counter,
                     "a sliding counter of 4 per 3 s", 0.95, 6);
}

TEST(zoo_kinds, a_small_buckets_refill_is_bounded_by_pairs_of_answers) {
  // A token bucket of 2 refilled at 2.97/s behind X-RateLimit-* (no
  // window; "until full" always 1 s), fed 305 items/s, told 1.48/s (bench
  // zoo seed 31 draw 163). Its refill was measured from one anchor at a
  // time and grown 1.25x whenever an answer showed it full, a 429's own
  // send counted as refilled: 26 429s, 0.928 of the budget. Every pair of
  // answers within a minute bounds the refill from below, and the level
  // model spends what each answer shows on top.
  expect_draw_within(31, 163, budget_kind::token_bucket,
                     "a bucket of 2 at 2.97/s", 0.97, 3);
}

TEST(zoo_kinds, a_429s_own_answer_takes_no_growth_step) {
  // A token bucket of 1 refilled at 0.93/s behind X-RateLimit-* (r = 0 at
  // every answer, so its rate is probed in steps), fed in bursts (bench
  // zoo seed 67 draw 129). Each 429's own answer first took a step up
  // (1.25x, the bound's sends being on time), so the cut that followed
  // cut that step and left the rate that overran: 18 429s, the headers
  // distrusted twice.
  expect_draw_within(67, 129, budget_kind::token_bucket,
                     "a bucket of 1 at 0.93/s", 0, 4);
}

TEST(zoo_kinds, a_blocks_probes_never_outrun_what_was_accepted) {
  // A counter of one per 4 s that counts its refusals (0.25/s), no
  // Retry-After, told 1/s (bench zoo seed 68 draw 182). Each block's
  // probes went 1-2.25 s apart, the backoff's start: four and more 429s
  // in ten seconds against a budget of 2.5 (storm ratio 1.6, 25 429s).
  // A block's probe now also waits until the refusals of the last 10 s
  // are fewer than the accepted rate allows (rejection_cap.hpp).
  auto r = expect_draw_within(68, 182, budget_kind::counting_counter,
                              "a counter of 1 per 4 s", 0, 18);
  ASSERT_TRUE(r.has_value());
  EXPECT_LE(r->storm_ratio, 1.0);
}

TEST(zoo_kinds, a_first_window_counted_from_the_start_is_probed_after_a_span) {
  // A fixed window of 16 per 5 s, no Retry-After, told nothing (bench zoo
  // seed 62 draw 170). The ramp's volley spent the first window; the block
  // (7 s) ended with a measure over the span from the pacer's start, its
  // ramp included: 16 over 5.6 s, 2.85/s, held ten blocks' worth (70 s) at
  // 0.98 of it before the first 2% step: 90% of the budget after 83 s.
  // That span is a bound of the window and the count rough: the first
  // probe now comes one span later.
  expect_draw_within(62, 170, budget_kind::fixed_window,
                     "a fixed window of 16 per 5 s", 0, 15, 30);
}

TEST(zoo_kinds, a_slow_starts_overrun_far_below_its_last_rate_is_rough) {
  // A log of 3 per 1 s that counts its refusals, Retry-After exact, told
  // nothing (bench zoo seed 64 draw 146). Its first volley measured only a
  // bare lower bound; the slow start from it passed 1.7/s and overran at
  // 3.4/s, where the window's average read 0.91/s. That bound had been
  // kept as a plateau, so the measure near it was taken for the same
  // one: a 20 s hold, then 2% an epoch of some ten seconds, 90% of the
  // budget after 386 s and 0.61 of it over the run. A bare bound is now
  // no plateau, and a measure under half the rate that overran is rough:
  // probed again soon, accelerating. That test takes the measure before
  // the floor of the rate the slow start passed, 1.7/s, which is half the
  // rate exactly (floored, the draw took 118 s). Probing up fast, its 429s
  // came back 2 s before the accepted answers of the requests sent before
  // them, and were taken for a shut limiter: the pace stayed at 4.7/s, a
  // tenth of the budget used. They are a cut now (the epoch below passed).
  expect_draw_within(64, 146, budget_kind::counting_log, "a log of 3 per 1 s",
                     0.85, 25, 60);
}

TEST(zoo_kinds, the_pacers_own_backoff_is_no_part_of_a_measure) {
  // nginx's delaying bucket of 83/s, Retry-After exact, told 166/s (bench
  // zoo seed 63 draw 5). The declared rate's volley overran, and each 429
  // of it came back while other answers were pending: the next send
  // waited the backoff of 1 s, not the 4 ms Retry-After asked, twice. The
  // window's average spanned those seconds and read 23/s: a 20 s hold,
  // then 2% an epoch, 90% of the budget after 82 s and 0.91 of it over
  // the run. The pacer's own holds are now left out of its measures.
  expect_draw_within(63, 5, budget_kind::nginx_delay,
                     "nginx's delaying bucket of 83/s told 166/s", 0.95, 12,
                     10);
}

TEST(zoo_kinds, a_rate_a_slow_start_passed_floors_its_next_measure) {
  // nginx's delaying bucket of 78/s, Retry-After rounded up (1 s), told
  // the right rate (bench zoo seed 64 draw 0). The slow start passed an
  // epoch at 78/s and overran at 156/s; the next overrun, at 133/s, took
  // the window's average, which spanned the first overrun's 1 s block:
  // 41/s, a 20 s hold, then 2% an epoch: 90% of the budget after 48 s,
  // 0.94 of it over the run. The rate that passed is now the measure's
  // floor until a pace at or below it overruns.
  expect_draw_within(64, 0, budget_kind::nginx_delay,
                     "nginx's delaying bucket of 78/s told right", 0.96, 10,
                     10);
}

TEST(zoo_kinds, a_counter_taken_for_a_log_is_found_out_by_what_it_leaves) {
  // A sliding counter of 4 per 3 s behind IETF headers, fed in steps below
  // its budget, told nothing (bench zoo seed 28 draw 143). Seen sliding
  // (its first reset gave little back), it was paced as a log: a slot
  // frees 3 s after each send. Three sends in one window then weigh in the
  // next, and the second send there went 0.7 s before one freed: one
  // 429, at 9 s. An answer at 7.8 s left none where a log of our sends
  // would have left one: now the counter's model paces it.
  expect_draw_within(28, 143, budget_kind::sliding_counter,
                     "a counter of 4 per 3 s taken for a log", 0, 0);
}
