#include "runtime/policy/advertised_budget.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include "runtime/policy/time_log.hpp"

namespace batching {

namespace {

constexpr std::size_t max_logged_sends = 100'000;

/// Sends this close to an answer's stamp may have reached the server
/// before or after the answered one: counted as not seen yet.
constexpr duration same_instant = std::chrono::milliseconds{1};
// The longest span a full bucket's refill floor is measured over.
constexpr duration full_span = std::chrono::seconds{30};
// A bucket's refill is bounded over pairs of answers up to this far apart
// (longer spans bound it closer; the budget may change), ...
constexpr duration refill_span = std::chrono::seconds{60};
// ... marked this far apart at least (the work per answer is bounded).
constexpr duration mark_every = std::chrono::milliseconds{250};
// Cuts of a bucket's estimated refill within distrust_for before its 429s
// count as strikes (a limiter that is no bucket fits no estimate).
constexpr std::uint32_t max_cuts = 3;

/// A send logged (in time order) within same_instant of `sent`.
bool logged_at(const std::deque<time_point>& log, time_point sent) {
  auto it = std::lower_bound(log.begin(), log.end(), sent - same_instant);
  return it != log.end() && *it <= sent + same_instant;
}

/// The sends after `from` of a log kept in order.
double logged_after(const std::deque<time_point>& log, time_point from) {
  return static_cast<double>(log.end()
                             - std::upper_bound(log.begin(), log.end(), from));
}

/// Drops a log's sends before `from`, and its oldest beyond the cap.
void forget_before(std::deque<time_point>& log, time_point from) {
  while (!log.empty() && (log.front() < from || log.size() > max_logged_sends))
    log.pop_front();
}

/// The sends in [from, to) of a log kept in order.
double sends_in(const std::deque<time_point>& sends, time_point from,
                time_point to) {
  if (to <= from)
    return 0;
  return static_cast<double>(
    std::lower_bound(sends.begin(), sends.end(), to)
    - std::lower_bound(sends.begin(), sends.end(), from));
}

/// A sliding counter's windows k = [S_k, S_k + W), S_k = end + k W. A send
/// s arrived in [s, s + l] (l a round trip), and the true start of window
/// k lies in (S_k - m, S_k + l] (each end named is stamp + t rounded up,
/// no earlier than the true end less the trip out; m <= 1 s as below):
/// surely in window k when S_k + l <= s < S_{k+1} - m - l. What window
/// k - 1 surely counted, P_k, frees at P_k / W per second in window k
/// (fewer counted free less: safe); where x may belong to either window,
/// the lesser rate.
struct counter_grid {
  time_point end;
  double w;
  duration l;
  duration margin; // the true end of a window lies in (end - margin, end + l]
  const std::deque<time_point>& sends;
  const std::deque<time_point>& refused; // never counted by a counter

  double index(time_point x) const {
    return std::floor(to_seconds(x - end) / w);
  }
  time_point start(double k) const { return end + from_seconds(k * w); }
  double sent_in(time_point from, time_point to) const { // [from, to)
    return sends_in(sends, from, to);
  }
  /// P_{k+1}: surely counted in window k (a refused request is not).
  double counted(double k) const {
    auto from = start(k) + l;
    auto to = start(k + 1) - margin - l;
    return sent_in(from, to) - sends_in(refused, from, to);
  }
  /// Requests/s freeing at x.
  double freeing(time_point x) const {
    auto k = index(x);
    auto rate = counted(k - 1);
    if (x >= start(k + 1) - margin)
      rate = std::min(rate, counted(k));
    if (x < start(k) + l)
      rate = std::min(rate, counted(k - 2));
    return rate / w;
  }
  /// The next instant after x where the rate may change: a window's start,
  /// m before it, l after it.
  time_point next_break(time_point x) const {
    auto k = index(x);
    time_point best = start(k + 2);
    for (auto b :
         {start(k) + l, start(k + 1) - margin, start(k + 1), start(k + 1) + l})
      if (b > x && b < best)
        best = b;
    return best;
  }
  /// Freed over [a, b).
  double freed(time_point a, time_point b) const {
    double sum = 0;
    while (a < b) {
      auto e = std::min(b, next_break(a));
      sum += freeing(a) * to_seconds(e - a);
      a = e;
    }
    return sum;
  }
};

} // namespace

double advertised_budget::sends_after(time_point from) const {
  return logged_after(sends_, from);
}

advertised_budget::carried advertised_budget::window_before(time_point stamp,
                                                            double w) const {
  return {sends_in(sends_, *reset_before_ - from_seconds(w), *reset_before_),
          std::min(1.0, to_seconds(stamp - *reset_before_) / w)};
}

double advertised_budget::pair_bound() const {
  double best = 0;
  for (const auto& m : refill_marks_)
    best = std::max(best, m.bound);
  return best;
}

std::optional<double> advertised_budget::step_up(double x) const {
  // Within 1% of the rate that overran the refill is bracketed: no step.
  if (overran_ && x >= 0.99 * *overran_)
    return std::nullopt;
  return overran_ ? std::min(1.25 * x, (x + *overran_) / 2) : 1.25 * x;
}

double advertised_budget::counted_after(time_point from) const {
  return sends_after(from) - logged_after(refused_, from);
}

std::optional<double> advertised_budget::window() const {
  return w_ ? w_ : w_est_;
}

std::optional<double> advertised_budget::grid_window() const {
  if (w_)
    return w_;
  if (t_max_ > 0)
    return t_max_;
  return std::nullopt;
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
  if (!steering(now))
    steering_since_ = now;
  without_ = 0;
  seen_ = true;
  // Sends within two round trips before a stamp may reach the server
  // after its request.
  auto late = 2 * std::max(latency, latency_);
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
    if (stamp == stamp_) {
      r_ = std::min(r_, a.remaining);
      ++stamp_answers_;
    }
    return;
  }
  auto bound = stamp + from_seconds(a.reset_s) + slack_;
  t_max_ = std::max(t_max_, a.reset_s);
  // The window grid: a counter's answers within a window all name its end
  // (t rounded up: the tightest is nearest); the next window's end lies a
  // whole number of windows later (none answered in between). A bucket's
  // "until full" and a log's oldest entry move with the sends instead.
  // Below 2 (1 s + a round trip) per window, rounding hides the test.
  if (auto w = grid_window(); w && *w > 0) {
    auto end = stamp + from_seconds(a.reset_s);
    // This answer's window ends in (stamp + t - 1 s, now + t]: t rounded
    // up, the request arrived between its send and its answer. In send
    // time, where a request that arrives a fixed trip after its send is
    // counted: (stamp + t - 1 s, stamp + t].
    phase_.narrow(end - std::chrono::seconds{1}, now + from_seconds(a.reset_s),
                  *w);
    send_phase_.narrow(end - std::chrono::seconds{1}, end, *w);
    if (!grid_end_ || stamp >= *grid_end_
        || end > *grid_end_ + std::chrono::seconds{1}) {
      // A window of one answer, or answers too slow for the rounding to
      // tell, says nothing either way: the count stands.
      auto tolerance = (1 + to_seconds(latency)) / *w;
      if (grid_end_ && grid_answers_ >= 2 && tolerance < 0.5) {
        auto gap = to_seconds(end - *grid_end_) / *w;
        auto k = std::round(gap);
        bool whole = k >= 1 && std::abs(gap - k) <= tolerance;
        aligned_ = whole ? aligned_ + 1 : 0;
      }
      grid_end_ = end;
      grid_latest_ = end;
      grid_answers_ = 1;
      grid_anchor_ = stamp;
      grid_anchor_r_ = a.remaining;
      grid_gained_ = false;
    } else {
      grid_end_ = std::min(*grid_end_, end);
      grid_latest_ = std::max(grid_latest_, end);
      // Each end named, stamp + t rounded up to whole seconds, is at most
      // a second past the true end plus the trip out (t >= 0 after it), and
      // no earlier than the true end less the trip out: the true end lies
      // in (latest - 1 s, tightest + round trip]. Ends spread over most of
      // a second pin it down.
      grid_margin_
        = std::clamp(1 - to_seconds(grid_latest_ - *grid_end_), 0.0, 1.0);
      ++grid_answers_;
      // More left than at the window's first answer less the sends the
      // server surely counted since (all but those sent within two round
      // trips of this one's, which may arrive after it), well inside the
      // window (a second and a round trip before its end): a counter's
      // last window weighing less. A fixed window never gains there, and
      // reordered answers or others' requests only take away.
      auto surely = sends_after(*grid_anchor_) - sends_after(stamp - late);
      if (!grid_gained_ && a.remaining - grid_anchor_r_ + surely >= 1
          && stamp + std::chrono::seconds{1} + latency < *grid_end_) {
        grid_gained_ = true;
        ++gain_windows_;
      }
    }
  }
  // The counter's model checked at each answer against the window's first:
  // the least it leaves (that one's r, plus what freed since, less every
  // send since that the server may have counted, those up to two round
  // trips before besides, and a token of rounding) is more than two over
  // what this answer shows twice: it is no counter (a fixed window that
  // others spend, a log), and pace() is as before.
  if (counter() && grid_anchor_ && stamp > *grid_anchor_) {
    auto place = grid_place_now();
    counter_grid grid{place.end,    *grid_window(), place.l,
                      place.margin, sends_,         refused_};
    auto least = grid_anchor_r_ + grid.freed(*grid_anchor_, stamp)
                 - grid.sent_in(*grid_anchor_ - late, stamp + same_instant) - 1;
    if (a.remaining + 2 < least && ++counter_misses_ >= 2)
      refuted_ = true;
  }
  double gained = 0; // more left than counted down to since the last answer
  // The whole quota back before the reset's bound: the window reset
  // between the last answer and this one (t is rounded up, so the bound
  // is late by up to a second).
  bool came_back = false;
  if (timed_) {
    // A refill: more left than the last answer less what the server
    // counted in between (our sends between the two stamps), before the
    // last reset.
    // Sends at the previous stamp's instant other than those answered (r
    // is the least of theirs: it counts them all) may have reached the
    // server after it: counted in between too. (Taking its own request
    // alone as counted, a volley after an idle spell read as a refill of
    // its own size.)
    auto counted
      = std::max(0.0, sends_after(stamp_ - duration{1}) - sends_after(stamp)
                        - std::max(1.0, stamp_answers_));
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
    // Past the reset, too, where the quota did not come back and no more
    // than half of it was ever seen left: a bucket far smaller than its
    // advertised q, not a window (a window or a log shows its whole quota
    // when fresh). One of a token refilled at 43/s behind X-RateLimit-*
    // showed r = 0 at every answer and its "until full", rounded up, a
    // second away: each answer came past a reset, no refill counted, and
    // it was probed once a second (0.02 of its budget).
    bool no_quota_back
      = q_ && r_max_ + 2 < 0.5 * *q_ && a.remaining + counted < *q_ - 1;
    came_back = whole_quota && gained >= 1 && !refills_ && *q_ >= 3
                && a.remaining + std::max(counted, 1.0) >= *q_;
    // Which way those went is not known, nor whether the other sends of
    // this stamp's instant came before this one: a refill only beyond
    // both (a volley after an idle spell, its answers out of order, made
    // a fixed window a bucket).
    auto unsure
      = std::max(0.0, sends_in(sends_, stamp_, stamp_ + duration{1})
                        - stamp_answers_)
        + std::max(0.0, sends_in(sends_, stamp, stamp + duration{1}) - 1);
    if ((stamp < reset_at_ || no_quota_back) && gained - unsure >= 1
        && !whole_quota && ++refill_evidence_ >= 2)
      refills_ = true;
    // Its rate, where no window tells it: between any two answers a and
    // b, the bucket refilled at least what the server counted in between
    // plus the level's rise, less a token of the two whole counts, and
    // more where it was full and wasted refill: R > (r_b - r_a - 1 +
    // counted) / span. Every pair is a bound from below; the best over
    // the marks of the last refill_span, a second apart or more, is the
    // rate taken (pacing at it, the level model spends what each answer
    // shows on top, so the bound rises to the refill as it is spent).
    // A 429 of a send on the bound alone drops the marks (the bound
    // failed: the budget shrank or others spend it; on_throttled).
    // A log or a window shows the whole quota less what it holds of our
    // sends within its span (t is at most that span): one that ever did
    // is no bucket, whatever r it showed at most.
    if (!quota_accounted_ && q_
        && a.remaining + counted_after(stamp - from_seconds(t_max_))
               - counted_after(stamp + same_instant)
             >= *q_ - 2)
      quota_accounted_ = true;
    if (refills_ && !holds_whole_quota() && !quota_accounted_) {
      // The server's count of our sends up to x (what it refused it did
      // not). Sends within same_instant of a stamp may have arrived either
      // side of it: at a mark all counted, at this answer none but its own.
      auto through = [&](time_point x) {
        return static_cast<double>(total_sent_ - total_refused_)
               - counted_after(x);
      };
      auto own = logged_at(refused_, stamp) ? 0.0 : 1.0;
      auto by_now = through(stamp - same_instant) + own;
      while (!refill_marks_.empty()
             && refill_marks_.front().stamp < stamp - refill_span)
        refill_marks_.pop_front();
      double best = 0;
      for (auto& m : refill_marks_)
        if (auto span = to_seconds(stamp - m.stamp); span >= 1)
          best = std::max(best,
                          (a.remaining - m.r - 1 + by_now - m.counted) / span);
      // A bound past the rate that overran: the budget grew.
      if (overran_ && best > 1.01 * *overran_)
        overran_.reset();
      // A bucket of fewer than two tokens shows r = 0 at every answer,
      // full or not: its pairs bound no more than our own rate. Where we
      // send at the rate taken, a step up (1.25 x, or halfway to the rate
      // that overran; within 1% of it the refill is bracketed) probes it;
      // a 429 cuts it back (on_throttled). At most once a second, and not
      // on a 429's own answer (its cut follows).
      if (r_max_ < 1 && sent_at_rate_ && own > 0
          && (!grown_at_ || stamp - *grown_at_ >= std::chrono::seconds{1})) {
        grown_at_ = stamp;
        if (auto step
            = step_up(std::max({best, held_rate_.value_or(0), *sent_at_rate_})))
          held_rate_ = step;
      }
      if (refill_marks_.empty()
          || stamp - refill_marks_.back().stamp >= mark_every)
        refill_marks_.push_back(
          {stamp, a.remaining, through(stamp + same_instant), best});
      else
        refill_marks_.back().bound = std::max(refill_marks_.back().bound, best);
      // The best bound of any pair ending within refill_span (one ending
      // at an idle, full bucket bounds little).
      auto bound = pair_bound();
      if (bound > 0 || held_rate_)
        refill_rate_ = std::max(bound, held_rate_.value_or(0));
    } else {
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
          auto refilled
            = a.remaining - anchor_r_ + sent_by(stamp) - anchor_sent_;
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
          // A refill measured past the rate that overran: the budget grew.
          // (Growth alone only halves the way to it; in floating point it
          // reached it after ~50 steps, took that for growth and overran
          // again, a 429 a minute: a bucket of 3 shows full at its very
          // refill rate.) Within 1% of it the refill is bracketed: no step.
          if (overran_ && refill_rate_.value_or(0) > 1.01 * *overran_)
            overran_.reset();
          if (auto step = step_up(x))
            refill_rate_ = step;
        }
      }
    }
  }
  // A bucket's reset is "until full" as of that answer: each send moves it,
  // so only the newest counts.
  // An answer stamped at or after the reset describes the next window (a
  // rounded t may put its bound within a second of the last).
  // One showing the whole quota back, too: a window whose first answer
  // came late in it bounds its reset late, and the next window's answers
  // within that bound, taken for the last one's, spent their quota as
  // what was left before it (a volley, then a 429 at the true reset).
  if (!timed_ || refills_ || stamp >= reset_at_ || came_back
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
    bool early = came_back && stamp < reset_at_; // before the bound
    bool past = stamp >= reset_at_ || came_back;
    if (timed_ && !refills_ && past)
      (fresh ? fresh_seen_ : sliding_) = true;
    passed_reset_ = passed_reset_ || (timed_ && past);
    if (timed_ && !refills_ && gained >= 1 && fresh
        && bound > reset_at_ + std::chrono::seconds{1}) {
      auto gap = to_seconds(bound - reset_at_);
      w_est_ = w_est_ ? std::min(*w_est_, gap) : gap;
    }
    // Reset early: it lies after the last answer's stamp, the bound as
    // early as is sure.
    if (timed_)
      reset_before_ = early ? stamp_ : reset_at_;
    reset_at_ = bound;
  } else {
    reset_at_ = std::min(reset_at_, bound);
  }
  // Surely past the last reset (the tightest bound may be early by a trip
  // out), within the window's first quarter, and at least half of what
  // our own sends of the window before still weigh in a counter
  // (P (1 - f)) missing: a counter, not a fixed window others spend (what
  // they spend grows with f, what a counter carries shrinks).
  if (auto w = grid_window(); w && *w > 0 && q_ && reset_before_
                              && stamp >= *reset_before_ + 2 * latency
                              && stamp < reset_at_) {
    auto since = sends_after(*reset_before_) - sends_after(stamp);
    auto missing = *q_ - (a.remaining + since);
    auto [ours, f] = window_before(stamp, *w);
    if (f <= 0.25 && missing >= std::max(2.0, 0.5 * ours * (1 - f)))
      slid_ = true;
  }
  // A log of our requests alone leaves at least q less every send of ours
  // it may hold: those within w before the stamp, or two round trips
  // either side of that span (a varying trip out reorders arrivals),
  // refused ones too (some logs count them). Where the window slides and
  // never came back whole after a reset (a fixed window does, unless
  // others spend it), less left by no more than our sends of the window
  // before still weigh in a counter (P (1 - f), and one of rounding): a
  // counter, whose last window a log's slot-by-slot freeing would overrun
  // (seed 28 draw 143, 4 per 3 s: a send 0.7 s early).
  if (sliding_ && !fresh_seen_ && !refills_ && w_ && q_ && timed_
      && reset_before_ && stamp >= *reset_before_ && stamp < reset_at_) {
    auto held = sends_in(sends_, stamp - from_seconds(*w_) - late,
                         stamp + late + same_instant);
    auto miss = *q_ - (a.remaining + held);
    auto [before, f] = window_before(stamp, *w_);
    if (miss > 0 && miss <= before * (1 - f) + 1)
      log_refuted_ = true;
  }
  timed_ = true;
  stamp_ = stamp;
  stamp_answers_ = 1;
  r_ = a.remaining;
  reset_s_ = a.reset_s;
  r_max_ = std::max(r_max_, r_);
  watch_last_slot(stamp, a.remaining);
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
  // The newest q sends stay besides (the sliding rule in pace()), and
  // those of the two windows before the current one (a counter's weight).
  auto keep = static_cast<std::size_t>(
    std::min(q_.value_or(0), static_cast<double>(max_logged_sends)));
  auto horizon = stamp_ - same_instant;
  // A log's pace counts our sends leaving it after its span (w, or at
  // most the longest t seen, rounded up): those of that span before the
  // stamp stay (the newest q alone left out those its r counted: 10.5 of
  // a log's 14 per 1 s).
  horizon = std::min(horizon, stamp_ - from_seconds(w_.value_or(t_max_) + 1));
  if (counter())
    horizon
      = std::min(horizon, *grid_end_ - from_seconds(3 * *grid_window() + 1));
  while (sends_.size() > keep && sends_.front() < horizon)
    sends_.pop_front();
  forget_before(refused_, sends_.empty() ? time_point::max() : sends_.front());
}

double advertised_budget::uncounted() const {
  // The answered request itself is among the sends at its stamp.
  return std::max(0.0, sends_after(stamp_ - same_instant - duration{1}) - 1);
}

void advertised_budget::on_refused(time_point now, duration latency) {
  // In send order (a later send's 429 may come back first).
  auto sent = now - std::max(duration{0}, latency);
  insert_in_order(refused_, sent);
  ++total_refused_;
  if (refused_.size() > max_logged_sends)
    refused_.pop_front();
}

bool advertised_budget::on_throttled(time_point now, duration latency) {
  auto sent = now - std::max(duration{0}, latency);
  refused_sent_ = std::max(refused_sent_.value_or(sent), sent);
  if (logged_at(early_sends_, sent))
    early_refused_ = true;
  // A log's span: the limiter still held our q-th newest send before this
  // one, g earlier, so the span in send time exceeds g. The floor goes
  // halfway from g to M = w (else t_max) + the newest round trip (t is at
  // most the span, rounded up; trips out vary by up to a round trip), at
  // most M: the least span measured ran short, and a floor of g alone
  // crept up a 429 at a time. Once the floor is M, a 429 is no short
  // span: the limiter holds more than our sends of the span (a sliding
  // counter sustains q - 1 per window): one slot more kept unused, up to
  // q / 2. Without w at every 429 (the floor holds the sliding rule in
  // pace() too); with w while the log's pace steers.
  if (q_ && (w_ ? log_paced() : t_max_ > 0)) {
    auto most = w_.value_or(t_max_) + to_seconds(latency_);
    if (span_floor_ >= most && kept_slots() + 1 <= *q_ / 2)
      slots_kept_ += 1;
    // Under a log's pace: its last slot is kept for good.
    if (log_paced())
      last_slot_.doubted = true;
    auto it = std::lower_bound(
      qth_at_send_.begin(), qth_at_send_.end(), sent,
      [](const auto& e, time_point x) { return e.first < x; });
    if (it != qth_at_send_.end() && it->first == sent) {
      auto g = to_seconds(sent - it->second);
      span_floor_ = std::max(span_floor_, std::min(most, (g + most) / 2));
    }
  }
  if (!steering(now))
    return false;
  // Sent before the advice steered (at a declared or learned pace): its
  // 429 says nothing of the advice.
  if (sent < steering_since_)
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
    if (last_cut_ && sent < *last_cut_)
      return false;
    if (!last_cut_ || now - *last_cut_ > cfg_.distrust_for)
      cuts_ = 0;
    if (logged_at(refill_sends_, sent) && cuts_ < max_cuts) {
      ++cuts_;
      last_cut_ = now;
      overran_ = std::min(overran_.value_or(*refill_rate_), *refill_rate_);
      // A step above the pairs' bound overran: the bound stands. The
      // bound itself overran (the budget shrank, others spend it): its
      // marks go.
      auto bound = pair_bound();
      bool stepped = *refill_rate_ > bound;
      *refill_rate_ /= 1.25;
      held_rate_ = *refill_rate_;
      if (stepped)
        refill_rate_ = std::max(*refill_rate_, bound);
      else
        refill_marks_.clear();
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
  if (!log_paced())
    last_slot_.paced_from.reset();
  else if (!last_slot_.paced_from)
    last_slot_.paced_from = now;
  // Kept to the rate taken over a span (at least a second and three
  // sends' worth), not in one close pair: a demand below the refill sends
  // in bursts and leaves the bucket full whatever its rate, and growing on
  // those bursts ran the estimate past the refill, a 429 each cycle (a
  // bucket of 89/s, holding 9, fed 70/s: 19 429s in 600 s).
  forget_before(recent_sends_, now - std::chrono::seconds{60});
  if (auto qr = quota_rate();
      qr && *qr > 0 && refill_estimated() && total_sent_ > 0) {
    auto span = std::max(1.0, 3 / *qr);
    auto in_span = logged_after(recent_sends_, now - from_seconds(span));
    if (in_span + 1 >= 0.9 * *qr * span)
      sent_at_rate_ = qr;
  }
  recent_sends_.push_back(now);
  // The newest r, less the sends it did not count, holds no token for it.
  bool none_left = timed_ && r_ - uncounted() < 1;
  // Sent on the estimated refill alone (kept for on_throttled).
  if (refill_estimated() && none_left)
    refill_sends_.push_back(now);
  // Sent before the reset on a log's freed slot alone (kept for
  // on_throttled).
  if (none_left && now + same_instant < reset_at_ && log_frees()) {
    early_sends_.push_back(now);
    if (early_sends_.size() > max_logged_sends)
      early_sends_.pop_front();
  }
  forget_before(refill_sends_, now - cfg_.distrust_for);
  if (auto qth = qth_newest_send()) {
    qth_at_send_.emplace_back(now, *qth);
    // A 429 comes back well within distrust_for of its send.
    while (qth_at_send_.front().first < now - cfg_.distrust_for)
      qth_at_send_.pop_front();
  }
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

std::optional<time_point> advertised_budget::log_frees() const {
  // Before the reset t says, with nothing left: a log seen sliding, w
  // advertised, whose q newest entries are ours (our q-th newest send is
  // within w of the stamp and none of them was refused: the log holds q,
  // so it holds exactly those) frees its next slot when our q-th newest
  // send leaves it, before a t rounded up says (a second lost per q
  // sends: 3 a second into a log of 3 per 3 s went 3 per 4 s). Others'
  // entries in the log put that send outside w of the stamp, or make the
  // slot free earlier than t allows (t - 1 s). A fixed window that others
  // spend fits both tests when our q span its start: a 429 of a request
  // sent so early ends this for good.
  auto first = qth_newest_send();
  if (!first || !sliding_ || !w_ || early_refused_)
    return std::nullopt;
  auto frees = *first + from_seconds(*w_);
  if (frees <= stamp_ || frees <= stamp_ + from_seconds(reset_s_ - 1)
      || (refused_sent_ && *refused_sent_ >= *first - same_instant))
    return std::nullopt;
  return frees + same_instant;
}

bool advertised_budget::counter() const {
  // Refills on a grid that held in send time for three windows (every
  // answer fits one fixed trip out; a log's or a bucket's reset moves with
  // the sends, so its send phase breaks): where the round trip is a third
  // of the window, no gain is surely counted, no slide surely seen, and
  // rounding hides the alignment of the answers' ends.
  bool steady = send_grid_steady();
  return !refuted_
         && (slid_ || log_refuted_ || gain_windows_ >= 2
             || (refills_ && steady))
         && (aligned_ >= 1 || steady) && q_ && grid_window() && grid_end_;
}

std::pair<double, time_point> advertised_budget::level_through_sends(
  double capacity,
  const std::function<double(time_point, time_point)>& gain) const {
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
    level = std::min(capacity, level + gain(at, std::max(at, *it))) - 1;
    at = std::max(at, *it);
  }
  return {level, at};
}

void advertised_budget::phase::narrow(time_point a, time_point b,
                                      double window) {
  if (fits(window)) {
    auto [plo, phi] = near(b);
    if (std::max(a, plo) < std::min(b, phi)) {
      lo = std::max(a, plo);
      hi = std::min(b, phi);
      return;
    }
    broken = true;
  }
  if (w != window)
    broken = false; // another window: a new grid
  since = b;
  lo = a;
  hi = b;
  w = window;
}

std::pair<time_point, time_point>
advertised_budget::phase::near(time_point x) const {
  auto k = from_seconds(std::round(to_seconds(x - hi) / w) * w);
  return {*lo + k, hi + k};
}

bool advertised_budget::send_grid_steady() const {
  auto w = grid_window();
  return w && *w > 2 && send_phase_.fits(*w) && !send_phase_.broken
         && stamp_ - send_phase_.since >= from_seconds(3 * *w);
}

advertised_budget::grid_place advertised_budget::grid_place_now() const {
  auto l = latency_ + same_instant;
  grid_place own{*grid_end_, from_seconds(grid_margin_), l};
  auto w = *grid_window();
  // Every answer so far fits one fixed trip out (the send phase never
  // broke): sends are placed against the grid in send time, with no
  // round trip of doubt (a third of a 3 s window's sends, 1 s away, were
  // left out of what frees: 0.53 of the budget).
  if (send_phase_.fits(w) && !send_phase_.broken) {
    auto [lo, hi] = send_phase_.near(*grid_end_);
    return {hi, hi - lo, same_instant};
  }
  if (!phase_.fits(w))
    return own;
  // The phase moved onto the current window: its end in (lo, hi], so
  // end = hi - l, margin = end - lo (at least 0), where that is tighter.
  auto [lo, hi] = phase_.near(*grid_end_);
  if (hi - lo >= own.margin + l)
    return own;
  return {hi - l, std::max(duration{0}, hi - l - lo), l};
}

time_point advertised_budget::pace_counter(time_point t) const {
  auto place = grid_place_now();
  counter_grid grid{place.end,    *grid_window(), place.l,
                    place.margin, sends_,         refused_};
  auto span = from_seconds(grid.w);
  auto freed = [&](time_point a, time_point b) { return grid.freed(a, b); };
  // From the stamp: r, plus what frees, less each send not yet counted,
  // at most q (a window's own count only grows).
  auto q = *q_;
  auto [level, at] = level_through_sends(q, freed);
  auto x = std::max(t, at);
  level = std::min(q, level + freed(at, x));
  // Walk forward until one is free, over at most the next two windows.
  auto limit = grid.start(grid.index(x) + 3);
  while (level < 1 && x < limit) {
    auto e = grid.next_break(x);
    auto rate = grid.freeing(x);
    if (rate > 0 && level + rate * to_seconds(e - x) >= 1)
      return std::min(x + from_seconds((1 - level) / rate), t + cfg_.max_block);
    level += rate * to_seconds(e - x);
    x = e;
  }
  if (level >= 1)
    return x;
  // None frees there (others spent it, or requests sent together were
  // counted twice, as not yet and in r): a probe a window after our last
  // send, whose answer tells more (from t it would recede).
  return std::min(std::max(t, last_sent_ + span), t + cfg_.max_block);
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
  auto x = counter() ? pace_counter(t) : pace_timed(t);
  // A sliding window: our own q sends span more than w (one more would
  // find them all still in a log's span; at the window's very end a tie).
  // A log freeing its slots one by one looks like a bucket that holds the
  // whole quota (r_max + 1 >= q - 1). Only an advertised w, or, once seen
  // sliding, the span measured from a log's oldest entry (a w measured
  // from resets may be a multiple of the true one; a window taken for a
  // bucket shows spans shorter than its own).
  // A bucket (refills, never the whole quota left) has no oldest entry to
  // measure a span from: its q-th newest send plus that span held one of
  // a token refilled at 43/s to 9/s.
  bool slides = sliding_ || slid_ || (refills_ && holds_whole_quota());
  bool bucket = refills_ && !holds_whole_quota();
  double span = w_ ? *w_ : sliding_ && log_span_ && !bucket ? *log_span() : 0.0;
  // Refills seen where the whole quota was once left at once, no span
  // measured and no w advertised: the longest t seen (a window's or a
  // log's t is at most w, rounded up; a bucket's "until full" is at most
  // its capacity's worth). Fixed windows behind X-RateLimit-* read as
  // buckets sent q and more within one window (5-26 429s a run); q per
  // that span never overruns them.
  if (span <= 0 && refills_ && holds_whole_quota())
    span = t_max_;
  if (auto first = qth_newest_send(); first && slides && span > 0)
    x = std::max(x, *first + from_seconds(span) + same_instant);
  return std::min(x, t + cfg_.max_block);
}

std::optional<double> advertised_budget::log_span() const {
  if (w_)
    return std::max(*w_, span_floor_);
  if (!log_span_)
    return std::nullopt;
  return std::max(*log_span_, span_floor_);
}

double advertised_budget::kept_slots() const {
  bool last = q_ && *q_ >= 2 && !last_slot_.shown;
  return slots_kept_ + (last ? 1 : 0);
}

void advertised_budget::watch_last_slot(time_point stamp, double r) {
  // The last slot (algorithm above): spaced q - 1 per span, a log shows
  // exactly one left after each request; a counter's floored fractional
  // weight shows none now and then.
  auto& s = last_slot_;
  auto span = log_span();
  // Only an answer sent a span into this pace tells (r counts what was
  // sent before it, too).
  if (s.shown || s.doubted || !s.paced_from || !log_paced() || !span || *q_ < 2
      || stamp < *s.paced_from + from_seconds(*span))
    return;
  // Ours within the span before its stamp, its own included.
  auto ours = sends_in(sends_, stamp - from_seconds(*span) + duration{1},
                       stamp + duration{1});
  if (r < 1) {
    s.doubted = true;
  } else if (r < 2 && ours >= *q_ - 1) {
    if (s.run++ == 0)
      s.since = stamp;
    if (s.run >= std::max(2.0, *q_ - 1)
        && stamp - *s.since >= from_seconds(*span))
      s.shown = true;
  } else {
    s.run = 0;
  }
}

bool advertised_budget::log_paced() const {
  // An answer's r plus our sends within the longest t made up q - 2 (the
  // quota accounted): a log, though no answer showed it whole (a declared
  // pace's first volley reached it before any answer).
  return q_ && refills_ && (holds_whole_quota() || quota_accounted_)
         && (sliding_ || slid_) && !counter();
}

std::optional<time_point> advertised_budget::pace_log(time_point t) const {
  auto span = log_span();
  if (!log_paced() || !span || *span <= 0)
    return std::nullopt;
  // q - k - l per span, evenly: a volley spent at once carries into the
  // next span (a counter's weight; a varying trip out reorders it at the
  // edge). One tick more than span / room: sends that far apart never put
  // room + 1 within a span (span / room rounded down to whole ticks did).
  auto room = std::max(1.0, *q_ - kept_slots());
  t = std::max(t, last_sent_ + from_seconds(*span / room) + duration{1});
  auto level = r_ - uncounted() - slots_kept_;
  if (level >= 1)
    return t;
  // Ours leaving after the stamp: sent in (stamp - span, x - span], less
  // those answered 429 (a sliding log never held them).
  auto s = from_seconds(*span);
  auto from = stamp_ - s + duration{1};
  auto left = [&](time_point x) {
    auto to = x - s + duration{1};
    return sends_in(sends_, from, to) - sends_in(refused_, from, to);
  };
  if (level + left(t) >= 1)
    return t;
  for (auto it = std::lower_bound(sends_.begin(), sends_.end(), from);
       it != sends_.end(); ++it) {
    auto x = *it + s + same_instant;
    if (x > t && level + left(x) >= 1)
      return x;
  }
  return std::nullopt; // too few logged: as a bucket below
}

time_point advertised_budget::pace_timed(time_point t) const {
  auto qr = quota_rate();
  auto uncounted = this->uncounted();
  auto cap = [&](time_point x) { return std::min(x, t + cfg_.max_block); };
  if (auto x = pace_log(t))
    return cap(*x);
  if (refills_ && qr) {
    // The bucket from the stamp on: r, refilling at qr up to its capacity
    // (at least r_max + 1: each r is counted after its own request took
    // one), less each send not yet counted, in order.
    auto capacity = r_max_ + 1;
    auto [level, at]
      = level_through_sends(capacity, [&](time_point a, time_point b) {
          return *qr * to_seconds(b - a);
        });
    auto tokens = std::min(capacity, level + *qr * to_seconds(t - at));
    // Once a 429 showed the estimated refill can run ahead (overran_),
    // tokens it alone accrued (the newest r, less the sends it did not
    // count, holds none) go at most at qr, evenly: as a volley each send
    // of one that ran ahead costs a 429 (a sliding counter, whose r rises
    // as its last window's weight decays, taken for a bucket refilling at
    // 27/s: volleys of 20 every ~35 s). Before any such 429 they go at
    // once: a window or log taken for a bucket, whose own sends are all
    // the refill it shows, measures no more than the pace it is fed.
    if (tokens >= 1 && refill_estimated() && overran_ && r_ - uncounted < 1)
      return cap(std::max(t, last_sent_ + from_seconds(1 / *qr)));
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
    // The newest answer came past the last reset without the quota back
    // (less than q - 1 with the sends since), but too soon to tell a
    // counter from a fixed window (its request may have arrived before the
    // window's true end): one request two round trips past it, whose
    // answer tells (a counter carrying the last window frees some of it
    // by then; a fixed window gave all back). Only where a counter can be
    // told at all (the grid's test).
    auto grid_w = grid_window();
    if (grid_w && *grid_w > 2 * (1 + to_seconds(latency_)) && q_ && !slid_
        && reset_before_ && stamp_ >= *reset_before_
        && r_ + sends_after(*reset_before_) - sends_after(stamp_) < *q_ - 1) {
      auto sure = *reset_before_ + 2 * latency_ + same_instant;
      if (stamp_ < sure && sends_after(sure - same_instant) < 1)
        return std::max(t, sure);
    }
    if (auto frees = log_frees())
      return cap(std::max(t, std::min(*frees, reset_at_ + same_instant)));
    // Just after the reset: a request sent at its very instant may still
    // count in the old window (a tie, or clocks of different grain).
    t = cap(reset_at_ + same_instant);
    if (t < reset_at_)
      return t;
  }
  // The first reset, before any answer past one: a fixed window's whole
  // quota is back, a counter carrying a full window frees one slot W / q
  // into the next (its r floored): half a slot more before the first send
  // there (W advertised, else the longest t seen).
  if (auto w = grid_window();
      w && q_ && *q_ > 0 && !passed_reset_ && t >= reset_at_)
    t = std::max(t, cap(reset_at_ + from_seconds(1.5 * *w / *q_)));
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
