#pragma once

// Advertised budget: spends exactly what the backend's rate-limit headers
// say is left (rate_limit_headers.hpp), so a backend that advertises its
// quota sees no 429 at all. The pacer owns one and lets it steer while its
// advice is fresh and has not been contradicted; otherwise the pacer learns.
//
// Algorithm. Each answer at `now` carrying advice (q, w, r, t) with f other
// requests still in flight (they may be counted against r already):
//   quota rate  qr = q / w (unknown without w: a bucket's reset is the time
//     until it is full, not a window);
//   left = r - f;
//   reset_at = min over this window's answers of (now + t + slack): t is
//     rounded up to whole seconds, so each is an upper bound and the
//     tightest is the best (one over a second beyond it starts a window);
//     slack = 0, or 1 s after a 429 while steering (a server rounding down);
//   left >= 1:  spacing = min(t / left, 1 / qr): evenly until the reset,
//     never slower than the quota rate (a bucket refills while it is spent;
//     a window runs empty and blocks below);
//   left < 1:   nothing before min(reset_at, now + max_block);
//   each send before the next answer spends one of `left` (several
//   requests leave between answers): none left blocks as above.
//   after reset_at: the quota rate qr, evenly (the next answers refine it).
//   pace(x) = max(x, not_before, last send + spacing)  (spacing = 1/qr
//             after reset_at; none when nothing bounds it).
// Usable advice has r and t, or q with w. It steers while usable
// advice came within the last `stale_after` answers. One 429 while it
// steers may be a race (another client, a window edge): its Retry-After and
// its own advice hold us. A second within `distrust_for` means the headers
// are wrong (or the limiter counts more than they say): advice is ignored
// for `distrust_for`, doubling on each repeat up to max_block, and the
// pacer's learning takes over.
// Invariants: never schedules a send before the advertised reset when
// nothing is left; a block lasts at most max_block however large t is.

#include <cstdint>
#include <optional>

#include "runtime/policy/types.hpp"

namespace batching {

class advertised_budget {
public:
  struct config {
    duration max_block = std::chrono::seconds{600};
    duration distrust_for = std::chrono::seconds{60};
    std::uint32_t stale_after = 3; // answers without usable advice
  };

  advertised_budget() = default;
  explicit advertised_budget(config cfg) : cfg_(cfg) {
    // nop
  }

  /// An answer arrived; `others` requests are still in flight.
  void on_answer(time_point now, const rate_limit_advice& a,
                 std::uint32_t others);

  /// A request left at `now`.
  void on_sent(time_point now);

  /// A 429 arrived at `now`. True when it distrusts the advice from now
  /// on (the second 429 within distrust_for while it steers).
  bool on_throttled(time_point now);

  /// Whether the advice steers sending at `now`.
  bool steering(time_point now) const;

  /// The earliest send not before `t` the advice allows.
  time_point pace(time_point t) const;

  /// Requests/s the advice lets through at `now` (0 while blocked; the
  /// quota rate when nothing else is known).
  double rate(time_point now) const;

  /// The long-run rate advertised (q/w), when known.
  std::optional<double> quota_rate() const { return quota_rate_; }

  /// How often advice was distrusted (for status and tests).
  std::uint32_t contradictions() const { return contradictions_; }

private:
  config cfg_;
  std::uint32_t without_ = 0; // answers since the last usable advice
  bool seen_ = false;         // any usable advice yet
  time_point not_before_{};
  time_point reset_at_{};
  duration slack_{0};
  std::optional<duration> spacing_; // until reset_at_
  std::optional<double> left_;      // r - f, less the sends since
  std::optional<double> quota_rate_;
  time_point last_sent_{};
  std::optional<time_point> last_strike_;
  std::optional<time_point> distrusted_until_;
  duration distrust_{0};
  std::uint32_t contradictions_ = 0;
};

} // namespace batching
