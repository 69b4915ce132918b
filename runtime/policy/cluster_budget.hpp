#pragma once

// One request budget shared by several nodes (issue #7; docs/deployment.md).
// An API token's budget belongs to the token: every node that uses it leases
// permits from one budget authority instead of pacing alone.
//
// Authority (budget_authority), per backend. Windows of length W aligned at
// the authority's clock, window k = [kW, (k+1)W); budget per window
// B = max(1, floor(r W)) with r the cluster rate (starts at the configured
// rate, which is also its ceiling).
//   lease(node, wanted, now): nothing while now < blocked_until; else
//     from window k, or, when k has no slot left, from window k + 1 (so
//     the next window's first slots are not lost to a lease's round
//     trip):
//     n = min(wanted, max_lease, B - s) permits of window k, the slots
//     s .. s + n - 1 with s = max(s_k, the first slot not yet passed)
//     (s_k = s + n; a passed slot is gone, or grants would stack into
//     a burst); slot i may be spent from
//     kW + i W / B on, and never after the window ends: the cluster's
//     sends are spread evenly over the window, never a burst of B.
//   give_back(node, unused, k): recorded (returned slots are not granted
//     again: their time may be past).
//   throttled(retry_after, now) (a node saw a 429): blocked_until =
//     max(blocked_until, now + retry_after); the rest of the window is
//     spent (g_k = B); r = max(min_rate, decrease r) at most once a window;
//     every node is told to pause until blocked_until.
//   after `hold` without a 429, r grows by `recover` per window back to the
//     configured rate (never above it).
// Invariant: permits granted for window k never exceed B_k, each is
// spent within window k and not before its slot, so the cluster sends at
// most B_k requests in window k, at most one per slot. Nodes that stop
// heart-beating for `node_timeout` are forgotten (their permits expire with
// their window).
//
// Node (lease_wallet): the permits a node holds, each spendable until its
// window's end as seen from the node (remaining time measured at receipt:
// network delay only shortens it). When the authority is lost the wallet
// falls back to a conservative local share: r / known_nodes per second,
// with windows of its own, until the authority answers again.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "runtime/policy/types.hpp"

namespace batching {

/// Permits granted to a node for one authority window. Only durations:
/// nodes' clocks are not the authority's.
struct lease_grant {
  std::uint32_t permits = 0;
  std::uint64_t window = 0; // the window they belong to
  duration valid_for{0};    // from the moment of the grant to its end
  duration retry_in{0};     // when to ask again if nothing was granted
  duration pause_for{0};    // a 429's Retry-After for the whole cluster
  std::uint32_t nodes = 1;  // live nodes (for the fallback share)
  double rate = 0;          // the cluster's rate now (requests/s)
  duration first_at{0};     // from the grant to the first permit's slot
  duration spacing{0};      // between the permits' slots

  bool operator==(const lease_grant&) const = default;
};

class budget_authority {
public:
  struct config {
    double rate = 3; // requests/s, and the ceiling
    double window_seconds = 1;
    std::uint32_t max_lease = 0; // 0: B / 2 (at least 1)
    double decrease = 0.85;
    double recover = 0.02;
    double min_rate = 0.05;
    duration hold = std::chrono::seconds{20};
    duration node_timeout = std::chrono::seconds{10};
  };

  explicit budget_authority(config cfg);

  lease_grant lease(const std::string& node, std::uint32_t wanted,
                    time_point now);
  void give_back(const std::string& node, std::uint32_t unused,
                 std::uint64_t window, time_point now);
  /// A node saw a 429; returns how long every node pauses from now.
  duration throttled(const std::string& node, duration retry_after,
                     time_point now);
  /// A node is alive (heartbeat or any message).
  void seen(const std::string& node, time_point now);

  double rate() const { return rate_; }
  std::uint32_t budget_per_window() const;
  std::uint64_t window_of(time_point now) const;
  /// Nodes heard from within node_timeout.
  std::size_t live_nodes(time_point now) const;
  time_point blocked_until() const { return blocked_until_; }
  /// Permits granted for the current window (tests, dashboard).
  std::uint32_t granted(time_point now);
  /// Permits given back unspent so far.
  std::uint64_t returned() const { return returned_; }

private:
  void roll(time_point now);
  time_point window_end(std::uint64_t k) const;

  config cfg_;
  double rate_;
  time_point epoch_{};
  std::uint64_t window_ = 0;
  std::map<std::uint64_t, std::uint32_t> granted_; // current and next window
  std::uint64_t returned_ = 0;
  time_point blocked_until_{};
  std::optional<time_point> last_throttle_;
  std::optional<std::uint64_t> last_decrease_window_;
  std::map<std::string, time_point> nodes_;
};

class lease_wallet {
public:
  /// The node's fallback when the authority is lost: rate / nodes.
  struct fallback {
    double rate = 0;
    std::size_t nodes = 1;
  };

  /// Permits from the authority, received at `now`.
  void add(const lease_grant& g, time_point now);

  /// Spends one permit; false when none is spendable now.
  bool take(time_point now);

  /// Permits spendable now.
  std::uint32_t available(time_point now);

  /// Leased permits held (spendable now or later in their window).
  std::size_t held() const { return slots_.size(); }

  /// Unspent permits of the authority window given back now, if any
  /// (the caller returns them to the authority).
  std::optional<std::pair<std::uint64_t, std::uint32_t>> expire(time_point now);

  /// Every node pauses until then (a 429 seen anywhere).
  void pause_until(time_point t);
  time_point paused_until() const { return paused_until_; }

  /// The authority is unreachable: spend a local share until it returns.
  void authority_lost(fallback f, time_point now);
  void authority_back();
  bool on_fallback() const { return fallback_.has_value(); }

  /// When a permit may next be spendable (the next fallback window, or the
  /// end of a pause); nothing when only a new lease can help.
  std::optional<time_point> next_chance(time_point now) const;

private:
  struct slot {
    time_point at;    // spendable from
    time_point until; // to the end of its window
    std::uint64_t window = 0;
  };
  std::deque<slot> slots_; // of the permits held, earliest first
  time_point paused_until_{};
  std::optional<fallback> fallback_;
  time_point fallback_window_start_{};
  std::uint32_t fallback_spent_ = 0;
};

} // namespace batching
