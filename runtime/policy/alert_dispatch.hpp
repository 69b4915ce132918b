#pragma once

// Alert notifications (monitoring.alerting, docs/metrics.md): which
// resource alerts reach the webhooks, when, and what becomes of a delivery
// that fails. The notifier (runtime/http/webhook_notifier.hpp) only moves
// bytes; every decision is here.
//
// Algorithm.
//   offer(alert, now), per resource:
//     below min_level (a warning when only critical is wanted) and not the
//       clearing of a sent alert: ignored;
//     a cleared alert when nothing uncleared was sent: ignored;
//     otherwise it is sent now when nothing of this resource was sent in
//       the last min_interval, or it is more severe than the last sent
//       (an escalation never waits); else it becomes the resource's pending
//       notification, replacing an older pending one (coalesced, counted),
//       and goes when the interval since the last sent ends, unless by then
//       it says what was last sent (a flap back: suppressed, counted).
//   Each notification goes to every webhook's delivery queue:
//     at most max_queued per webhook (a full queue drops its oldest,
//     counted); one delivery in flight per webhook; a failed attempt is
//     retried after min(max_backoff, first_backoff * 2^(attempts-1)) while
//     attempts < max_attempts, else dropped (counted).
// Inputs: `now` on every call; delivery results by webhook index.
// Invariants: per resource, sends are min_interval apart except
// escalations; per webhook, at most one delivery in flight and at most
// max_queued waiting; every notification's delivery to each webhook ends
// delivered or dropped exactly once (delivered + dropped = notified x
// webhooks once drained).

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

class alert_dispatch {
public:
  struct config {
    alert_level min_level = alert_level::warning;
    duration min_interval = std::chrono::seconds{300};
    std::uint32_t max_attempts = 5;
    duration first_backoff = std::chrono::seconds{1};
    duration max_backoff = std::chrono::seconds{60};
    std::size_t max_queued = 100;
    std::size_t webhooks = 1;
  };

  /// One delivery to make: `alert` to webhook `webhook`, attempt `attempt`
  /// (1 = first); `coalesced` alerts of its resource were replaced by it.
  struct delivery {
    std::size_t webhook = 0;
    resource_alert alert;
    std::uint32_t attempt = 1;
    std::uint64_t coalesced = 0;
  };

  struct counts {
    std::uint64_t offered = 0;
    std::uint64_t notified = 0;   // notifications made (each to every hook)
    std::uint64_t coalesced = 0;  // replaced by a later one while waiting
    std::uint64_t suppressed = 0; // waited, then said what was last sent
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0; // deliveries: out of attempts, queue overflow
  };

  explicit alert_dispatch(config cfg);

  void offer(const resource_alert& alert, time_point now);

  /// Deliveries due at `now` (each webhook's next, if it has none in
  /// flight): they are now in flight until on_result.
  std::vector<delivery> take_due(time_point now);

  /// The same for one webhook (its sending thread's view).
  std::optional<delivery> take_due(std::size_t webhook, time_point now);

  /// The result of webhook `webhook`'s delivery in flight.
  void on_result(std::size_t webhook, bool ok, time_point now);

  /// When something next becomes due without new input.
  std::optional<time_point> next_due() const;

  /// The same for one webhook (pending notifications included).
  std::optional<time_point> next_due(std::size_t webhook) const;

  /// No delivery waiting or in flight (notifications held back by
  /// min_interval aside).
  bool quiet() const;

  const counts& totals() const { return counts_; }

private:
  struct resource_state {
    std::optional<resource_alert> last_sent;
    time_point sent_at{};
    std::optional<resource_alert> pending;
    std::uint64_t pending_coalesced = 0;
  };
  struct queued {
    resource_alert alert;
    std::uint64_t coalesced = 0;
    std::uint32_t attempts = 0; // made so far
    time_point not_before{};
  };
  struct hook {
    std::deque<queued> waiting;
    std::optional<queued> in_flight;
  };

  void notify(resource_state& rs, const resource_alert& alert,
              std::uint64_t coalesced, time_point now);
  void release_pending(time_point now);

  config cfg_;
  std::array<resource_state, 4> resources_;
  std::vector<hook> hooks_;
  counts counts_;
};

} // namespace batching
