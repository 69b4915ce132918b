#include <map>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/cluster_budget.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

budget_authority::config per_second(double rate) {
  budget_authority::config cfg;
  cfg.rate = rate;
  cfg.max_lease = 100;
  return cfg;
}

} // namespace

TEST(budget_authority, grants_at_most_the_window_budget_across_nodes) {
  budget_authority a{per_second(3)};
  EXPECT_EQ(a.budget_per_window(), 3u);
  auto g1 = a.lease("n1", 1, at(0ms));   // slot 0, at once
  auto g2 = a.lease("n2", 1, at(200ms)); // slot 1 (333 ms)
  auto g3 = a.lease("n3", 2, at(300ms)); // slot 2 (667 ms); then none
  EXPECT_EQ(g1.permits, 1u);
  EXPECT_EQ(g1.first_at, duration{0});
  EXPECT_EQ(g2.permits, 1u);
  EXPECT_EQ(g3.permits, 1u);
  EXPECT_EQ(g2.valid_for, duration{800ms}); // until the window ends
  EXPECT_EQ(a.live_nodes(at(300ms)), 3u);
  // Window 0 is spent: the next window's slots, ahead of time.
  auto g4 = a.lease("n1", 3, at(300ms));
  EXPECT_EQ(g4.window, 1u);
  EXPECT_EQ(g4.permits, 3u);
  EXPECT_EQ(g4.first_at, duration{700ms});
  EXPECT_EQ(g4.valid_for, duration{1700ms});
  // Both windows spent: ask again when this one ends.
  auto none = a.lease("n3", 1, at(300ms));
  EXPECT_EQ(none.permits, 0u);
  EXPECT_EQ(none.retry_in, duration{700ms});
}

TEST(budget_authority, permits_are_slots_spread_over_the_window) {
  budget_authority a{per_second(4)}; // slots every 250 ms
  auto g = a.lease("n1", 1, at(100ms));
  EXPECT_EQ(g.permits, 1u);
  EXPECT_EQ(g.first_at, duration{150ms}); // slot 0 has passed: slot 1
  EXPECT_EQ(g.spacing, duration{250ms});
  auto h = a.lease("n2", 2, at(100ms));
  EXPECT_EQ(h.permits, 2u);
  EXPECT_EQ(h.first_at, duration{400ms}); // slot 2 at 500 ms
  lease_wallet w;
  w.add(h, at(100ms));
  EXPECT_FALSE(w.take(at(400ms)));
  EXPECT_EQ(w.next_chance(at(400ms)), at(500ms));
  EXPECT_TRUE(w.take(at(500ms)));
  EXPECT_FALSE(w.take(at(600ms)));
  EXPECT_TRUE(w.take(at(750ms)));
  // Given back: recorded, not granted again (their slots may be past).
  a.give_back("n1", 1, g.window, at(800ms));
  EXPECT_EQ(a.returned(), 1u);
  auto next = a.lease("n3", 4, at(800ms)); // window 0 is spent
  EXPECT_EQ(next.window, 1u);
  EXPECT_EQ(next.first_at, duration{200ms});
}

TEST(budget_authority, a_429_pauses_every_node_and_lowers_the_rate_once) {
  budget_authority a{per_second(10)};
  a.lease("n1", 5, at(0ms));
  auto pause = a.throttled("n1", 2s, at(100ms));
  EXPECT_EQ(pause, duration{2s});
  a.throttled("n2", 1s, at(200ms)); // same window: one decrease
  EXPECT_DOUBLE_EQ(a.rate(), 8.5);
  auto g = a.lease("n2", 5, at(300ms));
  EXPECT_EQ(g.permits, 0u);
  EXPECT_EQ(g.pause_for, duration{1800ms});
  EXPECT_EQ(g.retry_in, duration{1800ms});
  // floor(8.5) = 8 slots of 125 ms; the first passed during the pause.
  EXPECT_EQ(a.lease("n2", 20, at(2100ms)).permits, 7u);
  // After the hold without 429s the rate climbs back, never above 10.
  a.lease("n1", 1, at(100s));
  EXPECT_DOUBLE_EQ(a.rate(), 10.0);
}

TEST(budget_authority, silent_nodes_are_forgotten) {
  budget_authority a{per_second(3)};
  a.seen("n1", at(0s));
  a.seen("n2", at(5s));
  EXPECT_EQ(a.live_nodes(at(12s)), 1u);
}

TEST(lease_wallet, spends_permits_until_their_window_ends) {
  lease_wallet w;
  w.add({3, 7, 500ms, {}, {}}, at(0ms));
  EXPECT_TRUE(w.take(at(100ms)));
  EXPECT_EQ(w.available(at(100ms)), 2u);
  EXPECT_EQ(w.available(at(500ms)), 0u); // the window ended
  auto back = w.expire(at(500ms));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->first, 7u);
  EXPECT_EQ(back->second, 2u);
  EXPECT_FALSE(w.expire(at(600ms)));
}

TEST(lease_wallet, a_pause_stops_spending_until_it_ends) {
  lease_wallet w;
  w.add({2, 1, 1s, {}, 300ms}, at(0ms));
  EXPECT_FALSE(w.take(at(100ms)));
  EXPECT_EQ(w.next_chance(at(100ms)), at(300ms));
  EXPECT_TRUE(w.take(at(300ms)));
}

TEST(lease_wallet, without_the_authority_a_local_share) {
  lease_wallet w;
  w.add({5, 1, 1s, {}, {}}, at(0ms));
  w.authority_lost({3, 3}, at(0ms)); // 3/s over 3 nodes: 1/s here
  EXPECT_TRUE(w.on_fallback());
  EXPECT_TRUE(w.take(at(0ms)));
  EXPECT_FALSE(w.take(at(500ms)));
  EXPECT_EQ(w.next_chance(at(500ms)), at(1s));
  EXPECT_TRUE(w.take(at(1s)));
  // 1 request per 4 s when the share is below one a second.
  lease_wallet slow;
  slow.authority_lost({1, 4}, at(0ms));
  EXPECT_TRUE(slow.take(at(0ms)));
  EXPECT_FALSE(slow.take(at(3s)));
  EXPECT_TRUE(slow.take(at(4s)));
  slow.authority_back();
  EXPECT_FALSE(slow.on_fallback());
}

// Whatever nodes ask, spend, return and report, the cluster never sends
// more than the window's budget in any authority window.
RC_GTEST_PROP(cluster_budget, sends_per_window_never_exceed_the_budget, ()) {
  auto rate = *rc::gen::inRange(1, 40);
  auto nodes = *rc::gen::inRange(1, 6);
  budget_authority a{per_second(rate)};
  std::vector<lease_wallet> wallets(static_cast<std::size_t>(nodes));
  std::map<std::uint64_t, std::uint32_t> sends, budget;
  auto now = at(0ms);
  auto steps = *rc::gen::inRange(50, 400);
  for (int i = 0; i < steps; ++i) {
    now += std::chrono::milliseconds{*rc::gen::inRange(0, 300)};
    auto n = static_cast<std::size_t>(*rc::gen::inRange(0, nodes));
    std::string name = "n";
    name += std::to_string(n);
    auto& w = wallets[n];
    if (auto back = w.expire(now))
      a.give_back(name, back->second, back->first, now);
    switch (*rc::gen::inRange(0, 10)) {
      case 0: {
        auto pause = a.throttled(
          name, std::chrono::milliseconds{*rc::gen::inRange(0, 3000)}, now);
        for (auto& other : wallets)
          other.pause_until(now + pause);
        break;
      }
      case 1:
      case 2:
      case 3: {
        auto g = a.lease(
          name, static_cast<std::uint32_t>(*rc::gen::inRange(1, 20)), now);
        budget.emplace(g.window, a.budget_per_window());
        w.add(g, now);
        break;
      }
      default:
        for (auto want = *rc::gen::inRange(0, 30); want > 0 && w.take(now);
             --want)
          ++sends[a.window_of(now)];
    }
  }
  for (const auto& [k, n] : sends) {
    RC_ASSERT(budget.count(k) == 1u); // only leased permits were spent
    RC_ASSERT(n <= static_cast<std::uint32_t>(rate));
  }
}
