#include "runtime/policy/advertised_budget.hpp"

#include <algorithm>
#include <cmath>

namespace batching {

namespace {

constexpr std::size_t max_logged_sends = 100'000;

/// Sends this close to an answer's stamp may have reached the server
/// before or after the answered one: counted as not seen yet.
constexpr duration same_instant = std::chrono::milliseconds{1};
// The longest span a full bucket's refill floor is measured over.
constexpr duration full_span = std::chrono::seconds{30};
// Cuts of a bucket's estimated refill within distrust_for before its 429s
// count as strikes (a limiter that is no bucket fits no estimate).
constexpr std::uint32_t max_cuts = 3;

} // namespace

double advertised_budget::sends_after(time_point from) const {
  auto it = std::upper_bound(sends_.begin(), sends_.end(), from);
  return static_cast<double>(sends_.end() - it);
}

std::optional<double> advertised_budget::window() const {
  return w_ ? w_ : w_est_;
}

bool advertised_budget::refill_estimated() const {
  return refills_ && !window();
}

bool advertised_budget::holds_whole_quota() const {
  return q_ && r_max_ + 2 >= *q_;
}

std::optional<double> advertised_budget::quota_rate() const {
  auto w = window();
  if (q_ && w && *w > 0)
    return *q_ / *w;
  if (refills_ && refill_rate_ && *refill_rate_ > 0)
    return refill_rate_;
  // Until measured: "until full" says (r_max - r) / t; t is rounded up,
  // so this understates the rate. A t that means "until the next token"
  // overstates it: no faster than the newest two answers show.
  if (refills_ && timed_ && r_ < r_max_ && reset_s_ > 0)
    return std::min((r_max_ - r_) / reset_s_, pair_refill_bound_);
  return std::nullopt;
}

void advertised_budget::on_answer(time_point now, const rate_limit_advice& a,
                                  duration latency) {
  if (distrusted_until_ && now < *distrusted_until_)
    return;
  bool timed = a.remaining >= 0 && a.reset_s >= 0;
  bool quota = a.quota > 0 && a.window_s > 0;
  if (!timed && !quota) {
    ++without_;
    return;
  }
  without_ = 0;
  seen_ = true;
  latency_ = latency;
  if (a.quota > 0)
    q_ = a.quota;
  // Without w the quota's window is unknown (a reset is "until full" for a
  // bucket, not a window): consecutive resets estimate it below.
  if (a.window_s > 0)
    w_ = a.window_s;
  if (!timed) {
    if (a.remaining >= 0) { // r without t: what is left, not when it refills
      untimed_r_ = a.remaining;
      untimed_stamp_ = now - std::max(duration{0}, latency);
    }
    return;
  }
  auto stamp = now - std::max(duration{0}, latency);
  if (timed_ && stamp <= stamp_) {
    // Older news than what we know; of requests that left together, the
    // one counted last says the least is left.
    if (stamp == stamp_)
      r_ = std::min(r_, a.remaining);
    return;
  }
  auto bound = stamp + from_seconds(a.reset_s) + slack_;
  double gained = 0; // more left than counted down to since the last answer
  if (timed_) {
    // A refill: more left than the last answer less what the server
    // counted in between (our sends between the two stamps), before the
    // last reset.
    // Sends at the previous stamp's instant (other than its own request)
    // may have reached the server after it: counted in between too, so
    // that an ordering of simultaneous requests never looks like a refill.
    auto counted = std::max(0.0, sends_after(stamp_ - duration{1})
                                   - sends_after(stamp) - 1);
    gained = a.remaining - (r_ - counted);
    // At most one more than counted hides in the two whole-token counts.
    if (auto dt = to_seconds(stamp - stamp_); dt > 0)
      pair_refill_bound_ = (std::max(0.0, gained) + 1) / dt;
    // Whole tokens: a refill shows as one more now and then; twice (not
    // one ambiguous ordering of requests sent together) makes a bucket.
    // With its window advertised, the whole quota back at once is that
    // window reset before its bound (t rounded up), not a refill. Without
    // one, it may be a bucket refilled to its capacity, but within a
    // second of the bound it is no evidence either way (a window of 146
    // per 4 s behind X-RateLimit-* reset 0.4 s before its rounded-up
    // bound twice, was taken for a bucket and sent a volley at 145/s).
    bool whole_quota = q_ && a.remaining + counted >= *q_ - 1
                       && (w_ || stamp >= reset_at_ - std::chrono::seconds{1});
    if (stamp < reset_at_ && gained >= 1 && !whole_quota
        && ++refill_evidence_ >= 2)
      refills_ = true;
    // Its rate, where no window tells it: over the span since an anchor
    // answer (whole tokens are noisy over short spans), restarted whenever
    // the bucket was full (a full one gains nothing).
    auto sent_by = [&](time_point x) {
      return static_cast<double>(total_sent_) - sends_after(x);
    };
    if (refills_ && a.remaining < r_max_) {
      if (!anchor_) {
        anchor_ = stamp;
        anchor_r_ = a.remaining;
        anchor_sent_ = sent_by(stamp);
      } else if (auto span = to_seconds(stamp - *anchor_); span >= 1) {
        auto refilled = a.remaining - anchor_r_ + sent_by(stamp) - anchor_sent_;
        // Less one token: r is whole tokens, so either end may hide up
        // to one (this understates, by less over longer spans). A bound
        // from below like the full bucket's floor: not under that floor
        // while it is fresh (a capacity of 2 shows r = 0 whenever it is
        // not quite full: 4 sends in 1.1 s read as 2.6/s for 20/s).
        if (refilled > 1) {
          auto measured = (refilled - 1) / span;
          if (full_floor_ && stamp - full_floor_at_ <= full_span)
            measured = std::max(measured, *full_floor_);
          refill_rate_ = measured;
        }
      }
    } else if (a.remaining >= r_max_) {
      anchor_.reset();
      // Full at two answers: what the server counted in between was
      // refilled, less at most a token of the level's difference, so
      // R >= (sends between - 1) / span; a floor where no drain shows a
      // refill (a bucket of capacity 2 full at every answer showed none in
      // 600 s). Over at most full_span: the budget may shrink.
      if (refills_ && !holds_whole_quota()) {
        if (!full_anchor_ || stamp - *full_anchor_ > full_span) {
          full_anchor_ = stamp;
          full_sent_ = sent_by(stamp);
        } else if (auto span = to_seconds(stamp - *full_anchor_); span >= 1) {
          auto floor = (sent_by(stamp) - full_sent_ - 1) / span;
          full_floor_ = floor;
          full_floor_at_ = stamp;
          if (floor > refill_rate_.value_or(0)) {
            refill_rate_ = floor;
            if (overran_ && floor >= *overran_)
              overran_.reset();
          }
        }
      }
      // Full although we send at the rate we take for its refill (measured,
      // or the estimate from t before any measure): it refills at least as
      // fast, and a full bucket shows nothing to measure. Grow the rate
      // until it drains (and is measured again); an estimate that never
      // drained it would never be measured (5/s held for a bucket of
      // 18/s with a capacity of 5, whose "until full" is always 1 s).
      if (sent_at_rate_ && !holds_whole_quota()
          && (!grown_at_ || stamp - *grown_at_ >= std::chrono::seconds{1})) {
        grown_at_ = stamp;
        auto x = std::max(refill_rate_.value_or(0), *sent_at_rate_);
        // Full at or past the rate that overran: the budget grew.
        if (overran_ && x >= *overran_)
          overran_.reset();
        refill_rate_
          = overran_ ? std::min(1.25 * x, (x + *overran_) / 2) : 1.25 * x;
      }
    }
  }
  // A bucket's reset is "until full" as of that answer: each send moves it,
  // so only the newest counts.
  // An answer stamped at or after the reset describes the next window (a
  // rounded t may put its bound within a second of the last).
  if (!timed_ || refills_ || stamp >= reset_at_
      || bound > reset_at_ + std::chrono::seconds{1}) {
    // A new window shows more left than was counted down to; a reset that
    // moves later while nothing came back is a bucket's "until full"
    // receding with each send, not a window's length.
    // Only a fresh window counts (all of q left but what was sent since
    // the reset): a sliding log's resets free a slot or a few each.
    auto since_reset = sends_after(reset_at_) - sends_after(stamp);
    bool fresh = !q_ || a.remaining + since_reset >= *q_ - 1;
    // Past a reset but not all back: the window slides (a log frees its
    // oldest entries' slots, a counter weighs the last window in).
    if (timed_ && !refills_ && stamp >= reset_at_)
      (fresh ? fresh_seen_ : sliding_) = true;
    if (timed_ && !refills_ && gained >= 1 && fresh
        && bound > reset_at_ + std::chrono::seconds{1}) {
      auto gap = to_seconds(bound - reset_at_);
      w_est_ = w_est_ ? std::min(*w_est_, gap) : gap;
    }
    reset_at_ = bound;
  } else {
    reset_at_ = std::min(reset_at_, bound);
  }
  timed_ = true;
  stamp_ = stamp;
  r_ = a.remaining;
  reset_s_ = a.reset_s;
  r_max_ = std::max(r_max_, r_);
  // Without w, a sliding log's span from its oldest entry: it holds
  // q - r, ours the newest of them, the oldest leaving t after the stamp.
  // Each estimate is the span (t rounded up: a little more), or less
  // where others' requests are counted too: the least only weakens the
  // sliding rule in pace().
  if (!w_ && q_ && a.remaining < *q_) {
    auto held = static_cast<std::size_t>(*q_ - a.remaining);
    auto upto = static_cast<std::size_t>(sends_after(stamp));
    if (held >= 1 && sends_.size() >= upto + held) {
      auto oldest = sends_[sends_.size() - upto - held];
      auto span = to_seconds(stamp - oldest) + a.reset_s;
      if (span > 0)
        log_span_ = log_span_ ? std::min(*log_span_, span) : span;
    }
  }
  // The newest q sends stay besides (the sliding rule in pace()).
  auto keep = static_cast<std::size_t>(
    std::min(q_.value_or(0), static_cast<double>(max_logged_sends)));
  while (sends_.size() > keep && sends_.front() < stamp_ - same_instant)
    sends_.pop_front();
}

double advertised_budget::uncounted() const {
  // The answered request itself is among the sends at its stamp.
  return std::max(0.0, sends_after(stamp_ - same_instant - duration{1}) - 1);
}

bool advertised_budget::on_throttled(time_point now, duration latency) {
  if (!steering(now))
    return false;
  // A bucket whose refill rate is our estimate (no window advertised),
  // and a request sent on the strength of that estimate (the newest r, less
  // the sends it did not count, had no token for it): the estimate ran
  // ahead of the refill, the headers did not lie. Back to the rate before
  // the last growth step, and grow no further than halfway to the rate
  // that overran; the 429s of requests sent before that cut are the same
  // overrun. A request the newest r covered and the server rejected is a
  // strike as below (a lower rate would not mend wrong headers).
  if (refill_estimated() && refill_rate_) {
    auto sent = now - std::max(duration{0}, latency);
    if (last_cut_ && sent < *last_cut_)
      return false;
    auto it = std::lower_bound(refill_sends_.begin(), refill_sends_.end(),
                               sent - same_instant);
    if (!last_cut_ || now - *last_cut_ > cfg_.distrust_for)
      cuts_ = 0;
    if (it != refill_sends_.end() && *it <= sent + same_instant
        && cuts_ < max_cuts) {
      ++cuts_;
      last_cut_ = now;
      overran_ = std::min(overran_.value_or(*refill_rate_), *refill_rate_);
      *refill_rate_ /= 1.25;
      return false;
    }
  }
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
  return true;
}

bool advertised_budget::steering(time_point now) const {
  return seen_ && without_ < cfg_.stale_after
         && !(distrusted_until_ && now < *distrusted_until_);
}

void advertised_budget::on_sent(time_point now) {
  sent_at_rate_.reset();
  if (auto qr = quota_rate(); qr && *qr > 0 && refill_estimated()
                              && total_sent_ > 0
                              && to_seconds(now - last_sent_) <= 1.1 / *qr)
    sent_at_rate_ = qr;
  // Sent on the estimated refill alone: the newest r, less the sends it did
  // not count, holds no token for it (kept for on_throttled).
  if (refill_estimated() && timed_ && r_ - uncounted() < 1)
    refill_sends_.push_back(now);
  while (!refill_sends_.empty()
         && (refill_sends_.front() < now - cfg_.distrust_for
             || refill_sends_.size() > max_logged_sends))
    refill_sends_.pop_front();
  last_sent_ = now;
  ++total_sent_;
  sends_.push_back(now);
  if (sends_.size() > max_logged_sends)
    sends_.pop_front();
}

std::optional<time_point> advertised_budget::qth_newest_send() const {
  if (!q_ || *q_ < 1 || static_cast<double>(sends_.size()) < *q_)
    return std::nullopt;
  return sends_[sends_.size() - static_cast<std::size_t>(*q_)];
}

time_point advertised_budget::pace(time_point t) const {
  if (!timed_) {
    auto qr = quota_rate();
    // Only q per w is known, no reset to place windows at (a sliding
    // counter, as HAProxy's, advertises none): q/w apart, and never a
    // send q after one less than w + a round trip ago. A window may begin
    // at any instant, the server counts on arrival (a trip out varies by
    // at most a round trip), and q/w apart the (q+1)-th send lands on the
    // very end of the first one's window, where timer jitter of 1% put it
    // inside (HAProxy: 4-5 429s in 10 of 19 runs of real_limiters_test).
    if (!qr)
      return t;
    // The newest r says none left beyond the sends it has not counted: a
    // slot more between sends (a sliding counter's estimate frees about
    // one per q/w, rounded, so at exactly q/w it rejects now and then).
    auto slots = 1.0;
    if (untimed_r_
        && *untimed_r_ - sends_after(untimed_stamp_ - same_instant) < 1)
      slots = 2;
    auto x = std::max(t, last_sent_ + from_seconds(slots / *qr));
    // Untimed, the send log was never cut at a stamp: it holds every send
    // (up to its cap).
    if (auto first = qth_newest_send(); first && w_)
      x = std::max(x, *first + from_seconds(*w_) + latency_ + same_instant);
    return std::min(x, t + cfg_.max_block);
  }
  auto x = pace_timed(t);
  // A sliding window: our own q sends span more than w (one more would
  // find them all still in a log's span; at the window's very end a tie).
  // A log freeing its slots one by one looks like a bucket that holds the
  // whole quota (r_max + 1 >= q - 1). Only an advertised w, or, once seen
  // sliding, the span measured from a log's oldest entry (a w measured
  // from resets may be a multiple of the true one; a window taken for a
  // bucket shows spans shorter than its own).
  bool slides = sliding_ || (refills_ && holds_whole_quota());
  double span = w_ ? *w_ : sliding_ && log_span_ ? *log_span_ : 0.0;
  if (auto first = qth_newest_send(); first && slides && span > 0)
    x = std::max(x, *first + from_seconds(span) + same_instant);
  return std::min(x, t + cfg_.max_block);
}

time_point advertised_budget::pace_timed(time_point t) const {
  auto qr = quota_rate();
  auto uncounted = this->uncounted();
  auto cap = [&](time_point x) { return std::min(x, t + cfg_.max_block); };
  if (refills_ && qr) {
    // The bucket from the stamp on: r, refilling at qr up to its capacity
    // (at least r_max + 1: each r is counted after its own request took
    // one), less each send not yet counted, in order.
    auto capacity = r_max_ + 1;
    auto level = r_;
    auto at = stamp_;
    auto it = std::upper_bound(sends_.begin(), sends_.end(),
                               stamp_ - same_instant - duration{1});
    bool answered_skipped = false;
    for (; it != sends_.end(); ++it) {
      if (!answered_skipped) { // the answered request itself
        answered_skipped = true;
        continue;
      }
      level = std::min(capacity, level + *qr * to_seconds(*it - at)) - 1;
      at = std::max(at, *it);
    }
    auto tokens = std::min(capacity, level + *qr * to_seconds(t - at));
    if (tokens >= 1)
      return t;
    return cap(t + from_seconds((1 - tokens) / *qr));
  }
  if (t < reset_at_) {
    auto left = r_ - uncounted;
    // A bucket whose refill is not measured yet: what is left is spent at
    // once (a full bucket wastes its refill; its t, rounded up, would
    // spread a token over seconds).
    if (left >= 1 && refills_)
      return t;
    if (left >= 1) {
      auto even = to_seconds(reset_at_ - t) / left;
      if (qr)
        even = std::min(even, 1 / *qr);
      return std::max(t, last_sent_ + from_seconds(even));
    }
    // Just after the reset: a request sent at its very instant may still
    // count in the old window (a tie, or clocks of different grain).
    t = cap(reset_at_ + same_instant);
    if (t < reset_at_)
      return t;
  }
  // After a reset nobody advertised the window of (W from resets): one
  // request first, whose answer shows the refill, before the quota is
  // spent (a bucket's "reset" is when it is full, not a fresh window).
  // (A send scheduled at an instant may be logged a little before it by a
  // clock of coarser grain: those within same_instant count as at it.)
  // What the newest answer left, less the sends it did not count, is
  // there still: a reset never takes away (an answer slower than its
  // whole-second reset arrives after it). Likewise past the first reset of
  // an advertised w, until an answer shows a fresh window: a sliding log's
  // reset frees one slot.
  if ((!w_ || !fresh_seen_) && stamp_ < reset_at_
      && sends_after(reset_at_ - same_instant) >= 1)
    return r_ - uncounted >= 1
             ? t
             : std::max(t, last_sent_ + std::chrono::seconds{1});
  // After the reset: the window holding t allows q less the sends since
  // its start.
  auto start = reset_at_;
  auto w = window();
  if (w && *w > 0)
    start += from_seconds(*w * std::floor(to_seconds(t - reset_at_) / *w));
  // Without W, q may be a long window's quota or a bucket's rate: no more
  // than the most ever seen left at once.
  auto fresh = q_.value_or(1);
  if (!w)
    fresh = std::min(fresh, std::max(r_max_, 1.0));
  auto left = fresh - sends_after(start - same_instant);
  if (left >= 1)
    return qr ? std::max(t, last_sent_ + from_seconds(1 / *qr)) : t;
  if (w && *w > 0)
    return cap(start + from_seconds(*w) + same_instant);
  // A probe a second after the last send tells more (from t it would
  // recede with every call).
  return std::max(t, last_sent_ + std::chrono::seconds{1});
}

double advertised_budget::rate(time_point now) const {
  if (auto qr = quota_rate())
    return *qr;
  if (timed_ && now < reset_at_ && r_ >= 1)
    return r_ / std::max(1e-3, to_seconds(reset_at_ - now));
  return 0;
}

} // namespace batching
