#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/alert_dispatch.hpp"

#include "tests/support/virtual_time.hpp"

using namespace batching;
using batching::testing_support::at;
using namespace std::chrono_literals;

namespace {

resource_alert alert(alert_level level, resource_kind r = resource_kind::cpu) {
  resource_alert a;
  a.level = level;
  a.resource = r;
  return a;
}

alert_dispatch::config cfg(std::size_t hooks = 1) {
  alert_dispatch::config c;
  c.min_interval = 60s;
  c.max_attempts = 3;
  c.first_backoff = 1s;
  c.max_backoff = 10s;
  c.max_queued = 3;
  c.webhooks = hooks;
  return c;
}

} // namespace

TEST(alert_dispatch, a_raised_alert_goes_to_every_webhook_once) {
  alert_dispatch d{cfg(2)};
  d.offer(alert(alert_level::warning), at(0s));
  auto due = d.take_due(at(0s));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].webhook, 0u);
  EXPECT_EQ(due[1].webhook, 1u);
  EXPECT_EQ(due[0].attempt, 1u);
  EXPECT_TRUE(d.take_due(at(0s)).empty()); // one in flight per webhook
  d.on_result(0, true, at(1s));
  d.on_result(1, true, at(1s));
  EXPECT_EQ(d.totals().delivered, 2u);
  EXPECT_FALSE(d.next_due().has_value());
}

TEST(alert_dispatch, repeats_wait_for_the_interval_and_coalesce) {
  alert_dispatch d{cfg()};
  d.offer(alert(alert_level::warning), at(0s));
  d.take_due(at(0s));
  d.on_result(0, true, at(0s));
  // Cleared and raised again within the minute: the latest waits.
  d.offer(alert(alert_level::cleared), at(10s));
  d.offer(alert(alert_level::warning), at(20s));
  d.offer(alert(alert_level::cleared), at(30s));
  EXPECT_TRUE(d.take_due(at(30s)).empty());
  EXPECT_EQ(d.next_due(), at(60s));
  auto due = d.take_due(at(60s));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].alert.level, alert_level::cleared);
  EXPECT_EQ(due[0].coalesced, 2u); // the first two waiting ones
  EXPECT_EQ(d.totals().coalesced, 2u);
}

TEST(alert_dispatch, an_escalation_never_waits) {
  alert_dispatch d{cfg()};
  d.offer(alert(alert_level::warning), at(0s));
  d.take_due(at(0s));
  d.on_result(0, true, at(0s));
  d.offer(alert(alert_level::critical), at(5s));
  auto due = d.take_due(at(5s));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].alert.level, alert_level::critical);
}

TEST(alert_dispatch, a_flap_back_within_the_interval_is_not_sent) {
  alert_dispatch d{cfg()};
  d.offer(alert(alert_level::warning), at(0s));
  d.take_due(at(0s));
  d.on_result(0, true, at(0s));
  d.offer(alert(alert_level::cleared), at(10s));
  d.offer(alert(alert_level::warning), at(20s)); // what was last said
  EXPECT_TRUE(d.take_due(at(61s)).empty());
  EXPECT_EQ(d.totals().suppressed, 1u);
}

TEST(alert_dispatch, levels_below_the_minimum_are_ignored_unless_they_clear) {
  auto c = cfg();
  c.min_level = alert_level::critical;
  alert_dispatch d{c};
  d.offer(alert(alert_level::warning), at(0s));
  d.offer(alert(alert_level::cleared), at(1s)); // clears nothing sent
  EXPECT_TRUE(d.take_due(at(100s)).empty());
  d.offer(alert(alert_level::critical, resource_kind::memory), at(100s));
  ASSERT_EQ(d.take_due(at(100s)).size(), 1u);
  d.on_result(0, true, at(100s));
  d.offer(alert(alert_level::cleared, resource_kind::memory), at(200s));
  auto due = d.take_due(at(200s));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].alert.level, alert_level::cleared);
}

TEST(alert_dispatch, failures_back_off_then_give_up) {
  alert_dispatch d{cfg()};
  d.offer(alert(alert_level::critical), at(0s));
  ASSERT_EQ(d.take_due(at(0s)).size(), 1u);
  d.on_result(0, false, at(0s));
  EXPECT_EQ(d.next_due(), at(1s));
  EXPECT_TRUE(d.take_due(at(999ms)).empty());
  auto second = d.take_due(at(1s));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2u);
  d.on_result(0, false, at(1s));
  EXPECT_EQ(d.next_due(), at(3s)); // 2 s
  ASSERT_EQ(d.take_due(at(3s)).size(), 1u);
  d.on_result(0, false, at(3s)); // the third: out of attempts
  EXPECT_FALSE(d.next_due().has_value());
  EXPECT_EQ(d.totals().dropped, 1u);
  EXPECT_EQ(d.totals().delivered, 0u);
}

TEST(alert_dispatch, a_full_queue_drops_its_oldest) {
  alert_dispatch d{cfg()};
  // A webhook that hangs: its first delivery stays in flight.
  d.offer(alert(alert_level::warning, resource_kind::cpu), at(0s));
  ASSERT_EQ(d.take_due(at(0s)).size(), 1u);
  for (auto r :
       {resource_kind::memory, resource_kind::network, resource_kind::disk})
    d.offer(alert(alert_level::warning, r), at(1s));
  d.offer(alert(alert_level::critical, resource_kind::memory), at(2s));
  EXPECT_EQ(d.totals().dropped, 1u); // the memory warning, oldest
  d.on_result(0, true, at(3s));
  auto next = d.take_due(at(3s));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].alert.resource, resource_kind::network);
}

int severity(alert_level v) {
  return v == alert_level::critical ? 2 : v == alert_level::warning ? 1 : 0;
}

alert_level any_level() {
  return static_cast<alert_level>(*rc::gen::inRange(0, 3));
}

// Random alerts at random times, every delivery answered at once (so a
// delivery's time is its notification's): per resource, notifications
// are min_interval apart unless more severe than the last.
RC_GTEST_PROP(alert_dispatch_property, repeats_are_rate_limited, ()) {
  alert_dispatch d{cfg()};
  time_point now{};
  std::array<std::optional<std::pair<time_point, alert_level>>, 4> last;
  auto steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    now += std::chrono::seconds{*rc::gen::inRange(0, 40)};
    d.offer(
      alert(any_level(), static_cast<resource_kind>(*rc::gen::inRange(0, 4))),
      now);
    // Everything due now, one after the other (one in flight at a time).
    for (auto due = d.take_due(now); !due.empty(); due = d.take_due(now))
      for (const auto& x : due) {
        auto& l = last[static_cast<std::size_t>(x.alert.resource)];
        if (l && now - l->first < 60s)
          RC_ASSERT(severity(x.alert.level) > severity(l->second));
        l = std::pair{now, x.alert.level};
        d.on_result(x.webhook, true, now);
      }
  }
}

// Random alerts, results and times: one delivery in flight per webhook,
// and once everything has drained every notification's delivery to each
// webhook ended delivered or dropped.
RC_GTEST_PROP(alert_dispatch_property, deliveries_are_bounded_and_accounted,
              ()) {
  auto hooks = *rc::gen::inRange<std::size_t>(1, 4);
  alert_dispatch d{cfg(hooks)};
  time_point now{};
  std::vector<bool> busy(hooks, false);
  auto check_due = [&](const std::vector<alert_dispatch::delivery>& due) {
    for (const auto& x : due) {
      RC_ASSERT(!busy[x.webhook]);
      RC_ASSERT(x.attempt >= 1u);
      RC_ASSERT(x.attempt <= 3u);
      busy[x.webhook] = true;
    }
  };
  auto steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    now += std::chrono::seconds{*rc::gen::inRange(0, 40)};
    auto kind = *rc::gen::inRange(0, 3);
    if (kind == 0) {
      d.offer(
        alert(any_level(), static_cast<resource_kind>(*rc::gen::inRange(0, 4))),
        now);
    } else if (kind == 1) {
      auto h = *rc::gen::inRange<std::size_t>(0, hooks);
      if (busy[h]) {
        d.on_result(h, *rc::gen::arbitrary<bool>(), now);
        busy[h] = false;
      }
    }
    check_due(d.take_due(now));
  }
  // Drain: every webhook answers ok from now on.
  for (int k = 0; k < 10'000; ++k) {
    for (std::size_t h = 0; h < hooks; ++h)
      if (busy[h]) {
        d.on_result(h, true, now);
        busy[h] = false;
      }
    check_due(d.take_due(now));
    auto next = d.next_due();
    if (!next
        && std::none_of(busy.begin(), busy.end(), [](bool b) { return b; }))
      break;
    if (next && *next > now)
      now = *next;
  }
  RC_ASSERT(d.quiet());
  const auto& t = d.totals();
  RC_ASSERT(t.delivered + t.dropped == t.notified * hooks);
}
