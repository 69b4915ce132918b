#include "runtime/policy/advertised_budget.hpp"

#include <algorithm>

namespace batching {

void advertised_budget::on_answer(time_point now, const rate_limit_advice& a,
                                  std::uint32_t others) {
  if (distrusted_until_ && now < *distrusted_until_)
    return;
  bool timed = a.remaining >= 0 && a.reset_s >= 0;
  // Without w the quota's window is unknown (a reset is "until full" for a
  // bucket, not a window): only r and t pace then.
  if (a.quota > 0 && a.window_s > 0)
    quota_rate_ = a.quota / a.window_s;
  if (!timed && !(a.quota > 0 && a.window_s > 0)) {
    ++without_;
    return;
  }
  without_ = 0;
  seen_ = true;
  if (!timed)
    return; // the quota rate alone paces
  // t is rounded up to whole seconds by most servers, so now + t bounds
  // the reset from above; within one window the tightest bound holds
  // (a server that rounds down shows as a 429 at the reset: slack_ then).
  // Bounds of one window lie within a second of each other (plus the trip
  // back): one further out belongs to the next window.
  auto bound = now + from_seconds(a.reset_s) + slack_;
  reset_at_ = bound > reset_at_ + std::chrono::seconds{1}
                ? bound
                : std::min(reset_at_, bound);
  auto left = a.remaining - static_cast<double>(others);
  left_ = left;
  if (left >= 1) {
    // Evenly until the reset, and never slower than the quota rate (a
    // bucket refills while we spend; a window blocks below when empty).
    // Spread over t as advertised (rounded up: a bucket's "until full"
    // stays a second away however little is left), not the tight bound.
    auto even = a.reset_s / left;
    spacing_
      = from_seconds(quota_rate_ ? std::min(even, 1.0 / *quota_rate_) : even);
    not_before_ = now;
  } else {
    not_before_ = std::min(reset_at_, now + cfg_.max_block);
    spacing_.reset();
  }
}

bool advertised_budget::on_throttled(time_point now) {
  if (!steering(now))
    return false;
  // One 429 can be a race (another client spent what was advertised, a
  // window edge); a second within distrust_for says the headers are wrong.
  if (!last_strike_ || now - *last_strike_ > cfg_.distrust_for) {
    last_strike_ = now;
    slack_ = std::chrono::seconds{1}; // in case the server rounds t down
    return false;
  }
  last_strike_.reset();
  ++contradictions_;
  distrust_ = distrust_ == duration{0}
                ? cfg_.distrust_for
                : std::min(cfg_.max_block, 2 * distrust_);
  distrusted_until_ = now + distrust_;
  seen_ = false;
  spacing_.reset();
  not_before_ = now;
  return true;
}

bool advertised_budget::steering(time_point now) const {
  return seen_ && without_ < cfg_.stale_after
         && !(distrusted_until_ && now < *distrusted_until_);
}

void advertised_budget::on_sent(time_point now) {
  last_sent_ = now;
  // Sends before the next answer spend what was left; none left: wait for
  // the reset (answers in between may say more is left).
  if (left_ && --*left_ < 1 && now < reset_at_)
    not_before_
      = std::max(not_before_, std::min(reset_at_, now + cfg_.max_block));
}

time_point advertised_budget::pace(time_point t) const {
  auto at = std::max(t, not_before_);
  if (t < reset_at_ && spacing_)
    return std::max(at, last_sent_ + *spacing_);
  if (quota_rate_)
    return std::max(at, last_sent_ + from_seconds(1.0 / *quota_rate_));
  return at;
}

double advertised_budget::rate(time_point now) const {
  if (now < not_before_)
    return 0;
  if (now < reset_at_ && spacing_)
    return *spacing_ > duration{0} ? 1.0 / to_seconds(*spacing_) : 0;
  return quota_rate_.value_or(0);
}

} // namespace batching
