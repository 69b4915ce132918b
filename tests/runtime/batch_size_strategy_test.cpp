#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/batch_size_strategy.hpp"

using namespace batching;

namespace {

batch_size_strategy::limits limits(std::uint32_t lo = 10,
                                   std::uint32_t hi = 500,
                                   std::uint32_t preferred = 100) {
  return {lo, hi, preferred, 500, 0.05, 0.2};
}

sizing_signals healthy(std::size_t queue = 0) {
  sizing_signals s;
  s.item_latency_ms = 50;
  s.request_latency_ms = 40;
  s.queue_depth = queue;
  return s;
}

sizing_signals slow() {
  auto s = healthy();
  s.item_latency_ms = 900;
  return s;
}

} // namespace

TEST(batch_size_strategy, starts_at_the_preferred_size_within_bounds) {
  EXPECT_EQ(make_strategy(strategy_kind::adaptive, limits())->size(), 100u);
  EXPECT_EQ(make_strategy(strategy_kind::adaptive, limits(10, 50, 100))->size(),
            50u);
  EXPECT_EQ(make_strategy(strategy_kind::balanced, limits(20, 50, 5))->size(),
            20u);
}

TEST(batch_size_strategy, conservative_halves_on_a_violation) {
  auto s = make_strategy(strategy_kind::conservative, limits());
  s->update(slow());
  EXPECT_EQ(s->size(), 50u);
  s->update(healthy());
  EXPECT_EQ(s->size(), 53u); // + max(1, 0.2 * 50 / 4) = +2.5 -> 52.5 rounds up
}

TEST(batch_size_strategy, aggressive_grows_multiplicatively) {
  auto s = make_strategy(strategy_kind::aggressive, limits());
  s->update(healthy());
  EXPECT_EQ(s->size(), 120u);
  s->update(slow());
  EXPECT_EQ(s->size(), 108u);
}

TEST(batch_size_strategy, balanced_is_aimd) {
  auto s = make_strategy(strategy_kind::balanced, limits());
  s->update(healthy());
  EXPECT_EQ(s->size(), 110u); // + 0.2 * 100 / 2
  s->update(slow());
  EXPECT_EQ(s->size(), 88u);
}

TEST(batch_size_strategy, throttling_alone_never_shrinks_batches) {
  for (auto kind : {strategy_kind::conservative, strategy_kind::aggressive,
                    strategy_kind::balanced, strategy_kind::adaptive}) {
    auto s = make_strategy(kind, limits());
    auto before = s->size();
    auto sig = healthy();
    sig.throttled = true;
    s->update(sig);
    EXPECT_GE(s->size(), before) << to_string(kind);
  }
}

TEST(batch_size_strategy, adaptive_grows_into_a_backlog_and_shrinks_on_errors) {
  auto s = make_strategy(strategy_kind::adaptive, limits());
  for (int i = 0; i < 30; ++i)
    s->update(healthy(10'000));
  EXPECT_EQ(s->size(), 500u);
  auto bad = healthy(10'000);
  bad.error_rate = 0.5;
  s->update(bad);
  EXPECT_LT(s->size(), 500u);
}

TEST(batch_size_strategy,
     adaptive_fills_requests_within_a_few_under_a_lasting_backlog) {
  // A backlog that outlasts a request grows the size 1 + 2a (1.4x) per
  // request, unsmoothed: 50 -> 1,000 in 10 requests. Smoothed (a step of
  // a (want - s), 8%) it took 38, 76 s at 0.5 requests/s behind a
  // rate limit. One job's arrival (a backlog at one update only) moves it
  // by the smoothed step alone.
  auto s = make_strategy(strategy_kind::adaptive, limits(10, 1000, 50));
  int updates = 0;
  while (s->size() < 1000u && updates < 100) {
    s->update(healthy(100'000));
    ++updates;
  }
  EXPECT_LE(updates, 10);
  auto once = make_strategy(strategy_kind::adaptive, limits(10, 1000, 50));
  once->update(healthy(100'000));
  EXPECT_EQ(once->size(), 54u); // 50 + ceil(0.2 * (70 - 50))
  once->update(healthy(0));
  once->update(healthy(100'000));
  EXPECT_LE(once->size(), 60u);
}

TEST(batch_size_strategy, adaptive_bounds_request_latency_by_the_target) {
  // Each item costs 5 ms of backend time. Without a backlog a request may
  // use half the 500 ms target (50 items); under one requests grow to the
  // item cap (500): the items wait anyway, and bigger requests drain faster.
  auto light = make_strategy(strategy_kind::adaptive, limits());
  auto loaded = make_strategy(strategy_kind::adaptive, limits());
  for (int i = 0; i < 60; ++i) {
    auto sig = healthy(0);
    sig.request_latency_ms = 5.0 * light->size();
    light->update(sig);
    auto busy = healthy(100'000);
    busy.request_latency_ms = 5.0 * loaded->size();
    loaded->update(busy);
  }
  EXPECT_NEAR(light->size(), 50.0, 6.0);
  EXPECT_EQ(loaded->size(), 500u);
}

TEST(batch_size_strategy,
     adaptive_keeps_full_requests_behind_a_delaying_limiter) {
  // A limiter that delays rather than rejects (nginx limit_req with a
  // burst queue): every request takes 8 s, whatever its size, while the
  // queue holds minutes of work. Shrinking cannot lower that latency and
  // would only cut goodput under the request budget. (The old cap halved
  // the size per update down to the minimum of 10.)
  auto s = make_strategy(strategy_kind::adaptive, limits());
  for (int i = 0; i < 60; ++i) {
    auto sig = healthy(50'000);
    sig.item_latency_ms = 60'000;
    sig.request_latency_ms = 8'000;
    s->update(sig);
  }
  EXPECT_EQ(s->size(), 500u);
  // The backlog gone, the latency target bounds requests again.
  for (int i = 0; i < 60; ++i) {
    auto sig = healthy(0);
    sig.request_latency_ms = 8'000;
    s->update(sig);
  }
  EXPECT_EQ(s->size(), 10u);
}

RC_GTEST_PROP(batch_size_strategy_property, size_stays_within_bounds, ()) {
  auto lo = *rc::gen::inRange<std::uint32_t>(1, 200);
  auto hi = *rc::gen::inRange<std::uint32_t>(lo, 2000);
  auto kind = static_cast<strategy_kind>(*rc::gen::inRange(0, 7));
  auto s = make_strategy(
    kind, {lo, hi, *rc::gen::inRange<std::uint32_t>(0, 3000),
           *rc::gen::inRange(1, 5000) * 1.0, *rc::gen::inRange(0, 100) / 100.0,
           *rc::gen::inRange(1, 101) / 100.0});
  RC_ASSERT(s->size() >= lo && s->size() <= hi);
  auto steps = *rc::gen::inRange(1, 100);
  for (int i = 0; i < steps; ++i) {
    sizing_signals sig;
    sig.item_latency_ms = *rc::gen::inRange(0, 100'000) / 10.0;
    sig.request_latency_ms = *rc::gen::inRange(0, 100'000) / 10.0;
    sig.error_rate = *rc::gen::inRange(0, 101) / 100.0;
    sig.throttled = *rc::gen::arbitrary<bool>();
    sig.pressure = *rc::gen::element(0.0, 0.5, 1.0);
    sig.queue_depth = *rc::gen::inRange<std::size_t>(0, 100'000);
    sig.last_request_latency_ms = *rc::gen::inRange(0, 100'000) / 10.0;
    sig.batch_items = *rc::gen::inRange<std::size_t>(0, 3000);
    sig.ok = *rc::gen::arbitrary<bool>();
    s->update(sig);
    RC_ASSERT(s->size() >= lo);
    RC_ASSERT(s->size() <= hi);
    // Learning strategies take advice and window ends at any time.
    if (*rc::gen::arbitrary<bool>())
      s->advise(
        *rc::gen::arbitrary<bool>()
          ? std::optional<std::uint32_t>{*rc::gen::inRange<std::uint32_t>(0,
                                                                          5000)}
          : std::nullopt);
    if (*rc::gen::arbitrary<bool>())
      s->next_window(
        {*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()});
    RC_ASSERT(s->size() >= lo);
    RC_ASSERT(s->size() <= hi);
  }
}

// ml without advice is adaptive with exploration per window: the cycle
// (1, 0.8, 1, 1.25) around adaptive's size.
TEST(batch_size_strategy, ml_explores_around_adaptive_until_advised) {
  auto ml = make_strategy(strategy_kind::ml, limits());
  auto ad = make_strategy(strategy_kind::adaptive, limits());
  for (int i = 0; i < 5; ++i) {
    ml->update(healthy());
    ad->update(healthy());
  }
  EXPECT_EQ(ml->size(), ad->size());
  ml->next_window({});
  EXPECT_EQ(ml->size(), std::lround(0.8 * ad->size()));
  ml->next_window({});
  EXPECT_EQ(ml->size(), ad->size());
  ml->next_window({});
  EXPECT_EQ(ml->size(), std::lround(1.25 * ad->size()));
  ml->next_window({});
  EXPECT_EQ(ml->size(), ad->size());
}

TEST(batch_size_strategy, ml_follows_averaged_advice) {
  auto ml = make_strategy(strategy_kind::ml, limits());
  ml->advise(60u);
  EXPECT_EQ(ml->size(), 60u);
  ml->advise(160u); // moves 30% of the way: 60 + 0.3 * 100
  EXPECT_EQ(ml->size(), 90u);
  ml->advise(std::nullopt); // back to adaptive (100)
  EXPECT_EQ(ml->size(), 100u);
}

TEST(batch_size_strategy, ml_never_shrinks_under_a_budget_or_backlog) {
  auto ml = make_strategy(strategy_kind::ml, limits());
  ml->advise(40u);
  EXPECT_EQ(ml->size(), 40u);
  ml->next_window({true, false}); // backlog: at least adaptive's 100
  EXPECT_GE(ml->size(), 100u);
  ml->next_window({false, true}); // a request budget in play
  EXPECT_GE(ml->size(), 100u);
  ml->next_window({false, false}); // neither: the advice, explored x 1.1
  EXPECT_EQ(ml->size(), 44u);
  // A 429 marks the budget at once, before the window closes.
  auto sig = healthy();
  sig.throttled = true;
  ml->update(sig);
  EXPECT_GE(ml->size(), 100u);
}

TEST(batch_size_strategy, ml_holds_its_size_on_errors_and_yields_to_pressure) {
  auto ml = make_strategy(strategy_kind::ml, limits());
  ml->advise(150u);
  auto failing = healthy();
  failing.error_rate = 0.5;
  for (int i = 0; i < 10; ++i)
    ml->update(failing);
  EXPECT_EQ(ml->size(), 150u); // adaptive underneath has shrunk meanwhile
  auto pressed = healthy();
  pressed.pressure = 1;
  ml->update(pressed);
  EXPECT_LT(ml->size(), 100u); // adaptive's shrunk size
}

// Clipper starts at lo, explores by +1 below 10 and then by ~10% while the
// budget (0.92 x target) exceeds the largest latency seen; once latencies
// reach it, the ridge fit of size on mean + 3 sd picks the size whose
// bound meets the budget.
TEST(batch_size_strategy, clipper_explores_then_fits_latency_to_size) {
  auto lim = limits(1, 500, 100); // target 500 ms: budget 460 ms
  auto c = make_strategy(strategy_kind::clipper, lim);
  EXPECT_EQ(c->size(), 1u);
  auto request = [&](std::size_t items, double latency_ms) {
    sizing_signals sig = healthy();
    sig.ok = true;
    sig.batch_items = items;
    sig.last_request_latency_ms = latency_ms;
    c->update(sig);
  };
  for (std::uint32_t i = 1; i < 10; ++i) {
    request(c->size(), 10.0 + c->size());
    EXPECT_EQ(c->size(), i + 1);
  }
  auto before = c->size();
  request(before, 20);
  EXPECT_GE(c->size(), before); // multiplicative step, never down
  // Latency = 4 ms per item, exactly: the bound reaches the budget at 115.
  for (std::size_t b : {50, 100, 150})
    for (int k = 0; k < 5; ++k)
      request(b, 4.0 * static_cast<double>(b));
  request(150, 600); // above the budget: estimate from now on
  EXPECT_GE(c->size(), 100u);
  EXPECT_LE(c->size(), 130u);
  // Throttled or failed requests teach it nothing.
  auto size = c->size();
  sizing_signals throttled = healthy();
  throttled.throttled = true;
  throttled.batch_items = 5;
  throttled.last_request_latency_ms = 1;
  c->update(throttled);
  EXPECT_EQ(c->size(), size);
}

// Under a request budget, while requests themselves fit the latency
// target, ml's size only ratchets up (exploring upwards from where it is)
// towards the item cap; a request slower than the target releases it.
TEST(batch_size_strategy, ml_ratchets_up_under_a_budget) {
  auto ml = make_strategy(strategy_kind::ml, limits(10, 500, 50));
  ml->update(healthy()); // request latency 40 ms < target 500 ms
  std::uint32_t last = ml->size();
  for (int w = 0; w < 48; ++w) { // x 1.25 every 4th window: 12 steps
    ml->next_window({false, true});
    EXPECT_GE(ml->size(), last);
    last = ml->size();
  }
  EXPECT_EQ(ml->size(), 500u);
  auto slow = healthy();
  slow.request_latency_ms = 900;
  ml->update(slow);
  EXPECT_LT(ml->size(), 500u);
}
