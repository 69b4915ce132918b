#include "runtime/policy/pacer.hpp"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace batching {

namespace {

constexpr duration ramp_hold = std::chrono::seconds{2};
// Fewer requests accepted in a second than this measure no rate.
constexpr double min_measure = 3;

/// The lowest refill rate at which a token bucket holding at most `cap`
/// (>= 1), empty at t0, could have accepted a request at each of `sends`
/// (all after t0): each must find a whole token. Feasibility only grows
/// with the rate, so bisection finds it; none when even 10^4/s is not
/// enough (more sends at one instant than the cap).
std::optional<double>
min_bucket_rate(time_point t0, std::vector<time_point> sends, double cap) {
  if (sends.empty())
    return std::nullopt;
  std::sort(sends.begin(), sends.end());
  auto feasible = [&](double r) {
    double level = 0;
    auto t = t0;
    for (auto s : sends) {
      if (s > t) {
        level = std::min(cap, level + r * to_seconds(s - t));
        t = s;
      }
      if (level < 1 - 1e-9)
        return false;
      level -= 1;
    }
    return true;
  };
  double lo = 0;
  double hi = 1e4;
  if (!feasible(hi))
    return std::nullopt;
  for (int i = 0; i < 40; ++i) {
    auto mid = (lo + hi) / 2;
    (feasible(mid) ? hi : lo) = mid;
  }
  return hi;
}

} // namespace

pacer::pacer() : pacer(config{}) {
  // nop
}

pacer::pacer(config cfg)
  : flow_controller(cfg.max_in_flight), cfg_(cfg), rate_(cfg.initial_rate),
    hold_(cfg.initial_hold), probe_step_(cfg.probe),
    widest_step_(cfg.max_probe) {
  if (cfg.resumed && cfg.initial_ceiling > 0) {
    ceiling_ = cfg.initial_ceiling;
    // A rough ceiling is probed on, accelerating, as the predecessor did;
    // the first overrun that matches a confirmed one is a second measure.
    if (cfg.rough_ceiling)
      probe_step_ = 2 * cfg.probe;
    else
      plateau_ = cfg.initial_ceiling;
  }
}

double pacer::prior_ceiling() const {
  if (!cfg_.resumed || block_end_)
    return 0;
  return std::max(cfg_.initial_ceiling, cfg_.initial_rate);
}

void pacer::held_in_flight() { held_full_ = true; }

void pacer::restart_epoch() {
  epoch_successes_ = 0;
  in_flight_bound_ = false;
}

time_point pacer::pace(time_point t) {
  if (advertised_.steering(t)) {
    slot_bound_ = false; // the server's numbers pace: nothing to learn
    held_full_ = false;
    return advertised_.pace(t);
  }
  // Held by the in-flight limit while the slot opened: that limit, not
  // the pace, held the sends back, so the epoch does not test r (nginx's
  // delaying bucket at 46/s, its queue holding the answers, passed epochs
  // at 46/s sent while r doubled to 188/s; the next burst's volley then
  // overran it).
  if (std::exchange(held_full_, false) && rate_ > 0 && next_slot_ < t)
    in_flight_bound_ = true;
  slot_bound_ = rate_ > 0 && next_slot_ > t;
  waited_ = waited_ || slot_bound_;
  return rate_ > 0 ? std::max(t, next_slot_) : t;
}

std::uint32_t pacer::allowed_in_flight() const {
  if (rate_ > 0 || ceiling_ || advertised_.steering(last_event_))
    return std::min(max_in_flight_, after_failure_);
  return std::min(max_in_flight_, slow_start_);
}

double pacer::rate() const {
  return advertised_.steering(last_event_) ? advertised_.rate(last_event_)
                                           : rate_;
}

void pacer::sent(time_point now) {
  last_event_ = now;
  advertised_.on_sent(now);
  last_sent_ = now;
  sends_.emplace_back(now, waited_);
  // Keep only the measure window (a long run without 429s must not grow
  // these without bound).
  while (!sends_.empty() && sends_.front().first < now - cfg_.measure_window)
    sends_.pop_front();
  waited_ = false;
  if (rate_ > 0)
    next_slot_ = std::max(now, next_slot_) + from_seconds(1.0 / rate_);
  // Blocked without Retry-After (a 429 since the decrease, nothing
  // accepted since): one probe per backoff, not a volley at r (14 requests
  // went at 68/s each time a 55 s window's backoff ran out). A Retry-After
  // says when a request may pass: probes go at r after it (a bucket shared
  // with tenants refuses a single probe now and then).
  if (last_decrease_ && !accepted_since_throttle_ && probe_singly_)
    next_slot_ = std::max(
      {next_slot_, now + backoff_, refusals_.next_probe(now, in_flight() - 1)});
  // Measure the send rate over ~1 s windows (used when unpaced).
  if (!window_start_) {
    window_start_ = now;
  } else if (now - *window_start_ >= std::chrono::seconds{1}) {
    measured_rate_ = window_sends_ / to_seconds(now - *window_start_);
    window_start_ = now;
    window_sends_ = 0;
  }
  ++window_sends_;
}

std::optional<double> pacer::accepted_rate(time_point now, bool& trusted) {
  auto from = now - cfg_.measure_window;
  while (!accepted_.empty() && accepted_.front() < from)
    accepted_.pop_front();
  while (!sends_.empty() && sends_.front().first < from)
    sends_.pop_front();
  if (!busy_since_)
    return std::nullopt;
  from = std::max(from, *busy_since_);
  if (measure_from_)
    from = std::max(from, *measure_from_);
  auto span = now - from;
  if (span < std::chrono::seconds{2})
    return std::nullopt;
  // Seconds the pacer held itself back beyond what the limiter asked say
  // nothing about the budget (see self_held_).
  span -= held_within(from, now);
  if (span < std::chrono::seconds{1})
    return std::nullopt;
  auto accepted = std::count_if(accepted_.begin(), accepted_.end(),
                                [&](time_point t) { return t >= from; });
  std::size_t sends = 0, bound = 0;
  for (const auto& [t, was_bound] : sends_)
    if (t >= from) {
      ++sends;
      bound += was_bound ? 1 : 0;
    }
  // Demand waited for most slots: the pacer was the bottleneck, so what
  // got accepted is what the budget allows.
  trusted = sends > 0 && bound >= 0.6 * static_cast<double>(sends);
  return static_cast<double>(accepted) / to_seconds(span);
}

bool pacer::answers_pending(time_point sent_at) const {
  auto in_span
    = [&](time_point t) { return t >= *last_decrease_ && t < sent_at; };
  auto sent = std::count_if(sends_.begin(), sends_.end(),
                            [&](const auto& e) { return in_span(e.first); });
  auto answered
    = std::count_if(answered_sends_.begin(), answered_sends_.end(), in_span);
  return sent > answered;
}

bool pacer::earlier_in_flight(time_point sent_at) const {
  // The sends after sent_at, answered or not, bound those in flight after
  // it: the rest in flight were sent before it (or with it).
  auto after = std::count_if(sends_.begin(), sends_.end(),
                             [&](const auto& e) { return e.first > sent_at; });
  return static_cast<std::ptrdiff_t>(in_flight()) > after;
}

std::optional<double> pacer::accepted_recently(time_point now,
                                               duration horizon) const {
  if (!first_completion_)
    return std::nullopt;
  auto from = now - horizon;
  auto accepted = std::count_if(accepted_.begin(), accepted_.end(),
                                [&](time_point t) { return t > from; });
  if (accepted == 0)
    return std::nullopt;
  return static_cast<double>(accepted) / to_seconds(horizon);
}

std::optional<double> pacer::accepted_spacing(time_point now,
                                              duration horizon) const {
  auto first
    = std::upper_bound(accepted_.begin(), accepted_.end(), now - horizon);
  auto n = std::distance(first, accepted_.end());
  if (n < 3 || accepted_.back() <= *first)
    return std::nullopt;
  return static_cast<double>(n - 1) / to_seconds(accepted_.back() - *first);
}

bool pacer::probed_since_decrease() const {
  return last_probe_ && last_decrease_ && *last_probe_ > *last_decrease_;
}

std::optional<double> pacer::recent_send_rate(time_point now) const {
  constexpr auto horizon = std::chrono::seconds{5};
  std::size_t n = 0;
  std::optional<time_point> first;
  // Within the busy period: sends before a pause (a block's probes) say
  // nothing about the pace that overran.
  auto from = std::max(now - horizon, busy_since_.value_or(now - horizon));
  for (auto it = sends_.rbegin(); it != sends_.rend(); ++it) {
    if (it->first < from)
      break;
    ++n;
    first = it->first;
  }
  if (n < 3 || now - *first < std::chrono::seconds{2})
    return std::nullopt;
  auto span = now - *first - held_within(*first, now);
  if (span < std::chrono::seconds{1})
    return std::nullopt;
  return static_cast<double>(n) / to_seconds(span);
}

duration pacer::held_within(time_point from, time_point to) const {
  duration held{0};
  for (const auto& [b, e] : self_held_) {
    auto lo = std::max(b, from), hi = std::min(e, to);
    if (hi > lo)
      held += hi - lo;
  }
  return held;
}

void pacer::hold_self(time_point from, time_point to) {
  while (!self_held_.empty()
         && self_held_.front().second < to - cfg_.measure_window)
    self_held_.pop_front();
  if (to <= from)
    return;
  if (!self_held_.empty() && self_held_.back().second >= from)
    self_held_.back().second = std::max(self_held_.back().second, to);
  else
    self_held_.emplace_back(from, to);
}

void pacer::on_throttled(time_point now, duration retry_after,
                         duration latency) {
  // A request sent before the last decrease belongs to the overrun that
  // decrease measured: nothing new.
  if (last_decrease_ && now - latency < *last_decrease_) {
    restart_epoch();
    return;
  }
  // Still blocked: a request sent after the last decrease is throttled
  // again with nothing accepted since (a window or log stays shut). Not a
  // new measure (nothing accepted says nothing about the rate): back off
  // in time instead, 1.5x per probe, where no Retry-After says how long.
  // Shut: a 429 while the rate ramps (after a rough estimate) with fewer
  // requests accepted per second over the last H = max(1 s, 4 / r) than
  // min_measure and than a quarter of the pace r: the limiter is closed (a
  // window spent, a counter of rejections), it is not measuring a budget of
  // ~1/s. As a block: no new measure, back off in time (a first overrun's
  // volley in a window's first second would otherwise be followed by a
  // ceiling of 1/s). A long Retry-After is the window's own answer
  // (measured below). H spans at least four slots: below 4/s a single
  // second holds too few requests to tell a shut limiter from a slow one.
  // The same measure is the ramp's estimate below (nothing between
  // changes it). Not shut while a request sent before this one is still
  // out once a probe step's epoch passed: its answer, which carries the
  // work, may be an acceptance that comes after the 429, and the cut
  // measures at least that epoch (a log of 3/s probed at 4.7/s let three
  // of each six through, their answers 2 s after the 429s: each 429 taken
  // for a shut limiter, the pace stayed and a tenth of the budget went).
  auto horizon
    = std::min(cfg_.measure_window,
               from_seconds(std::max(1.0, rate_ > 0 ? 4.0 / rate_ : 1.0)));
  auto recently_accepted = accepted_recently(now, horizon);
  bool shut
    = rate_ > 0 && ceiling_ && probe_step_ > cfg_.probe
      && retry_after < std::chrono::seconds{2}
      && recently_accepted.value_or(0) < std::min(min_measure, 0.25 * rate_)
      && now - latency >= last_decrease_.value_or(now)
      && !(held_rate_ && earlier_in_flight(now - latency));
  // Requests sent after the decrease but before this one, whose answers
  // are still out: the limiter may have accepted them (a 429 comes back
  // sooner than an accepted request, which carries the work). Until they
  // tell, this is no block: Retry-After and the backoff as it stands (not
  // grown) hold the next send, and the first of them that is accepted
  // replays this 429 as an overrun of the lowered pace (completed()). As a
  // block, each such 429 grew the backoff: five of one volley blocked for
  // 8 s, and the measure at the next 429 took that idle time for the
  // pace's. (Without Retry-After, the block's rounds already take a
  // volley's 429s as one step.)
  if (last_decrease_ && !accepted_since_throttle_ && !shut
      && retry_after > duration{0} && answers_pending(now - latency)) {
    if (!deferred_)
      deferred_ = deferred_429{now - latency, retry_after};
    // The backoff beyond Retry-After (and beyond the slot already set) is
    // the pacer's own caution, not the limiter's pace: measures leave it
    // out (an exact Retry-After of 4 ms held 1 s twice after a volley told
    // 166/s into nginx's delaying bucket of 83/s, and the average over
    // those seconds read 23/s: 90% of the budget after 82 s).
    hold_self(std::max(next_slot_, now + retry_after), now + backoff_);
    next_slot_ = std::max(next_slot_, now + std::max(backoff_, retry_after));
    restart_epoch();
    return;
  }
  if ((last_decrease_ && !accepted_since_throttle_) || shut) {
    deferred_.reset(); // the limiter stayed shut: no overrun to replay
    last_rejected_sent_ = now - latency;
    // Retry-After is when a request could pass, not that it will: others
    // may take the slot first, and a limiter that counts rejections grows
    // its log with each probe. From the second such probe on, probes back
    // off beyond it too.
    bool repeated = backoff_ > std::chrono::seconds{1};
    // Without Retry-After, one step per round of probes: the 429s of
    // requests sent before the last step's 429 came back are the same
    // round (a volley still in flight after the decrease: 14 of them took
    // the backoff to its 60 s cap against a window of 3 s), and the
    // probes go one at a time (sent()). With it, each 429 is a step, as
    // the probes go at r after it (a round per step let a bucket of
    // 1.25/s take 6 429s a second: a storm).
    probe_singly_ = retry_after <= duration{0};
    if (!probe_singly_ || !backoff_round_ || now - latency >= *backoff_round_) {
      backoff_ = std::min(cfg_.max_backoff, (3 * backoff_) / 2);
      backoff_round_ = now;
    }
    if (retry_after <= duration{0} || repeated)
      next_slot_ = std::max({next_slot_, now + std::max(backoff_, retry_after),
                             refusals_.next_probe(now, in_flight())});
    restart_epoch();
    return;
  }
  // One decrease per window (max(1 s, 1/r)): the 429s of one overrun are
  // one signal, not many.
  auto window = from_seconds(std::max(1.0, rate_ > 0 ? 1.0 / rate_ : 0.0));
  // Unless a request sent after the decrease overran as well, once another
  // sent after it was accepted (with none, the block above: a limiter still
  // shut): the lower pace still overruns, a bucket whose burst inflated the
  // measure (a ramp into nginx's burst of 10 measured 18/s for 10/s, and
  // its 15/s drew six more 503s in the second the window ignored them).
  bool again = last_decrease_ && now - *last_decrease_ < window && rate_ > 0
               && retry_after < std::chrono::seconds{2};
  if (!last_decrease_ || now - *last_decrease_ >= window || again) {
    accepted_since_throttle_ = false;
    answered_sends_.clear();
    deferred_.reset();
    backoff_ = std::chrono::seconds{1};
    backoff_round_.reset();
    probe_singly_ = false;
    // Unpaced, the send rate is measured over ~1 s windows; before the
    // first has closed, the sends of the last second are the rate (a
    // volley in the first second is not 1/s: as the cap of an estimate
    // below it would set the ceiling there).
    auto last_second = static_cast<double>(
      std::count_if(sends_.begin(), sends_.end(), [&](const auto& e) {
        return e.first > now - std::chrono::seconds{1};
      }));
    auto sent_rate
      = rate_ > 0 ? rate_ : std::max({measured_rate_, last_second, 1.0});
    // The ceiling estimate (see the header): the window's measure after a
    // long Retry-After; the accepted rate when the pacer was the
    // bottleneck; else the pace actually sent lately (demand set it); with
    // too little history, a multiplicative decrease.
    auto c = sent_rate;
    bool trusted = false;
    auto a = accepted_rate(now, trusted);
    bool window_budget = retry_after >= std::chrono::seconds{2};
    // No block before this one: the window's count began with this pacer,
    // maybe mid-window: a resumed pacer measures at least its prior.
    auto prior = prior_ceiling();
    // The window now spent began when the previous block ended (or the run
    // began). What was accepted is counted from the last decrease: an
    // ordinary 429 since the previous block restarted the count, which
    // then covers part of the span only (a few requests over seconds read
    // as a budget of ~0, and an outage's long Retry-After after a burst's
    // 429 set the pace to one request per 20 s). Here and at a block's
    // end without Retry-After (on_block_end).
    auto window_start = block_end_.value_or(*first_completion_);
    bool whole = !last_decrease_ || *last_decrease_ <= window_start;
    std::optional<window_measure> measure;
    if (window_budget && first_completion_) {
      // The window now spent ends when the block does: what was accepted
      // since it began was this window's budget.
      auto span = to_seconds(now + retry_after - window_start);
      if (span > 0 && accepted_since_decrease_ > 0 && whole) {
        a = accepted_since_decrease_ / span;
        measure = window_measure{span, sent_rate};
      }
      // Spans between overruns are whole numbers of windows, and probing
      // makes them long: the shortest is the best estimate of one window.
      if (span > 0)
        window_span_ = std::min({from_seconds(span), cfg_.max_hold,
                                 window_span_.value_or(cfg_.max_hold)});
      block_end_ = now + retry_after;
    }
    // Ramping (an unpaced start, or accelerating probes): the rate has
    // just been rising, so averages over the window understate the budget;
    // the last second's accepted requests measure it.
    bool ramping = (!ceiling_ && rate_ <= 0) || probe_step_ > cfg_.probe;
    if (ramping && !window_budget && rate_ <= 0)
      c = std::numeric_limits<double>::max(); // unpaced: no rate to cap it
    auto recent_accepted
      = ramping && !window_budget && !again ? recently_accepted : std::nullopt;
    bool bare_bound = false; // too few accepted to measure a rate
    bool next_held_overran = false;
    if (again) {
      // The pace just set overran: the budget is below it, and (with at
      // least min_measure accepted since) near what was accepted since.
      c = rate_;
      if (accepted_since_decrease_ >= min_measure && first_sent_since_decrease_
          && now > *first_sent_since_decrease_)
        c = std::min(
          c, std::max(cfg_.decrease * rate_,
                      accepted_since_decrease_
                        / to_seconds(now - *first_sent_since_decrease_)));
    } else if (recent_accepted) {
      // A probe step overran: the epoch at the step below passed whole
      // without a 429, so the budget is at least what it accepted (the
      // last second mixes it with part of the overrun's).
      auto spacing = rate_ > 0 ? accepted_spacing(now, horizon) : std::nullopt;
      auto measured = std::max({recent_accepted.value_or(0),
                                held_rate_.value_or(0), spacing.value_or(0)});
      c = std::min(c, measured);
      bare_bound = measured < min_measure;
    } else if (a && window_budget) {
      // Probes accelerating, each step a window span or more: the epoch
      // at the step below passed a whole window without a 429.
      c = std::min(c, ramping ? std::max(*a, held_rate_.value_or(0)) : *a);
    } else if (a && trusted) {
      // Probing up, the window's average spans the climb: at least what
      // the limiter accepted over the whole epoch before the last step.
      auto floor = held_rate_.value_or(0);
      // No probe step since the last decrease: the pace held overran (a
      // ceiling that a burst inflated). The window's average spans the
      // climb before it; what was accepted since the decrease, at about
      // that pace, is the better measure: the budget is a little below.
      bool at_hold
        = last_decrease_ && first_sent_since_decrease_
          && !probed_since_decrease()
          && now - *first_sent_since_decrease_ >= std::chrono::seconds{2};
      if (at_hold) {
        // The 429 behind the decrease emptied the limiter and this one
        // finds it empty. Per second since the first accepted was sent:
        // an upper bound (tokens refilled before it, in a Retry-After's
        // block, are left out); per second since the decrease: a lower
        // one (short by what overflowed), as is the count less the
        // burst seen. The upper bound first; once it overran, the
        // bucket that fits in between (a window fits a bucket too).
        auto span = to_seconds(now - *first_sent_since_decrease_);
        auto hi = accepted_since_decrease_ / span;
        auto cap = std::max(1.0, burst_seen_);
        auto lo = std::max(accepted_since_decrease_
                             / to_seconds(now - *last_decrease_),
                           (accepted_since_decrease_ - cap) / span);
        auto fit = held_overran_ && !accepted_sends_pruned_ ? min_bucket_rate(
                     decrease_sent_,
                     {accepted_sends_.begin(), accepted_sends_.end()}, cap)
                                                            : std::nullopt;
        floor = std::max(floor, fit ? std::clamp(*fit, lo, hi) : hi);
        next_held_overran = true;
      }
      c = std::min(c, std::max(*a, floor));
    } else if (auto recent = recent_send_rate(now)) {
      c = std::min(c, std::max(a.value_or(0), *recent));
    } else if (a) {
      c = std::max(std::min(c, *a), cfg_.decrease * sent_rate);
    }
    // As measured: under half the rate, a slow start's measure is rough
    // (below), which the floor that follows, r / 2 exactly, would hide.
    auto measured = c;
    // An overrun above the rate a slow start's last doubling left, which
    // passed a whole epoch: the budget is at least that rate, whatever the
    // window's average says (a 1 s Retry-After block inside its span:
    // told 78/s, right, it read 41/s; a window's long Retry-After is its
    // own answer, measured above). Until a pace at or below it overruns:
    // then it says nothing more.
    if (passed_) {
      if (!window_budget && sent_rate > *passed_)
        c = std::max(c, *passed_);
      else
        passed_.reset();
    }
    if (window_budget)
      c = std::max(c, std::min(sent_rate, prior));
    // Unpaced, the send rate says nothing about the budget (an overrun
    // with nothing accepted would take it as the ceiling and storm): only
    // accepted requests count, and at least one per second is presumed.
    bool no_evidence = false;
    if (rate_ <= 0) {
      auto accepted = std::max(recent_accepted.value_or(0), a.value_or(0));
      no_evidence = !last_accepted_; // nothing accepted ever
      c = std::min(c, std::max(1.0, accepted));
    }
    // A ramp's overrun with fewer than `min_measure` requests accepted in
    // its last second measured a lower bound, not a rate (a limiter with
    // no burst rejects the second of two requests sent at once, whatever
    // its rate): slow start doubles from it instead of probing up in
    // small steps from a ceiling nobody measured.
    if (rate_ <= 0 && bare_bound)
      no_evidence = true;
    // The first overrun of an unpaced start: what its volley got through
    // beyond the rate just measured is a burst the limiter holds.
    if (!last_decrease_ && rate_ <= 0 && first_sent_since_decrease_)
      burst_seen_
        = std::max(0.0, accepted_since_decrease_
                          - c * to_seconds(now - *first_sent_since_decrease_));
    accepted_before_block_ = accepted_since_decrease_;
    window_measure_ = measure;
    last_rejected_sent_.reset();
    window_from_start_ = !window_budget && !block_end_;
    window_from_ = window_budget ? now + retry_after : window_start;
    counted_whole_ = whole;
    block_with_retry_after_ = retry_after > duration{0};
    accepted_since_decrease_ = 0;
    accepted_sends_.clear();
    accepted_sends_pruned_ = false;
    decrease_sent_ = now - latency;
    first_sent_since_decrease_.reset();
    // Accelerating, the step that overran was half the next one; a step
    // much wider than a probe's brackets the budget too loosely to confirm
    // a plateau: between the rate below it and the overrun's.
    // A second cut within the window corrects the first measure; it
    // confirms no plateau (the hold would double on every such pair).
    bool wide_step = ramping && probe_step_ > 8 * cfg_.probe;
    bool near_plateau
      = !again && plateau_ && c >= 0.8 * *plateau_ && c <= 1.25 * *plateau_;
    bool same_plateau = !wide_step && near_plateau;
    // A wide step's overrun near the last plateau: the measure repeats, only
    // its bracket is loose. The next climb's steps stop at the widest that
    // confirms, so its overrun can (a delaying bucket shows an overrun only
    // once its queue fills, steps later: nginx at 2.8/s was overrun at 1.32
    // x every ~18 s for ten minutes, never confirmed).
    widest_step_ = wide_step && near_plateau ? 8 * cfg_.probe : cfg_.max_probe;
    plateau_ = c;
    hold_ = same_plateau
              ? std::min(std::max(2 * hold_, cfg_.initial_hold), cfg_.max_hold)
              : cfg_.initial_hold;
    // A probe step that overran the same plateau again, with c' near the
    // pace that overran (within a probe step and the recover margin: the
    // step below passed), brackets the budget: each probe into it costs
    // about one 429, so the next waits for 1 / probe_cost requests' worth
    // at c (apart from h, which doubles as before: grown from this wait, a
    // c that then fell to 1.29/s for 1.5/s was held 252 s). A c' further
    // below (a window's average over the climb, a pace held below c that
    // overran) may be under the budget, which only probes find: that ends
    // the wait. A held pace that overran with c' near it keeps it.
    bool bracketed
      = same_plateau && c >= cfg_.recover * rate_ / (1 + cfg_.probe);
    if (bracketed && probed_since_decrease()) {
      // A probe's cost: its 429, and the requests the budget allowed
      // while its Retry-After held every send (nginx answering
      // "Retry-After: 1" at 10/s: eleven requests' worth, not one).
      auto cost = 1 + c * to_seconds(retry_after);
      auto worth = from_seconds(cost / (cfg_.probe_cost * std::max(c, 1e-3)));
      quiet_until_ = now + std::min(cfg_.max_hold, worth);
    } else if (!bracketed) {
      quiet_until_ = now;
    }
    probe_step_ = cfg_.probe;
    held_rate_.reset();
    held_overran_ = next_held_overran;
    // Later measurements start here: the climb before would understate.
    if (recent_accepted)
      measure_from_ = now;
    if ((recent_accepted || (ramping && rate_ <= 0 && !window_budget))
        && !same_plateau) {
      // A new level from one second of an overrun is rough: probe again
      // soon, accelerating, until an overrun confirms the plateau. So is an
      // unpaced ramp's measure with nothing accepted in its last second
      // (the window's average: after headers that paced it without a quota
      // rate were found wrong, the pace they kept).
      hold_ = ramp_hold;
      probe_step_ = 2 * cfg_.probe;
    }
    // A slow start that overran under the rate before its last doubling,
    // which passed a whole epoch: the window's average understates. A
    // declared rate's spans the seconds at that rate, below the budget
    // (told 5/s, a limit of 10/s measured 6.9/s): probe from it soon. (At
    // or above it, as when the declared rate is right, the measure stands
    // and the hold too: each probe into it costs a 429.) A bare lower
    // bound's doubles quicker still, and its measure is rough (a log of 3
    // per 1 s that counts refusals, overrun at 3.4/s after 1.7/s passed,
    // read 0.91/s and climbed 2% an epoch, some ten seconds: 90% of its
    // budget after 386 s): probe soon, accelerating.
    if (!ceiling_ && rate_ > 0 && !window_budget && measured < 0.5 * rate_) {
      if (!from_lower_bound_ && cfg_.initial_rate > 0
          && rate_ > cfg_.initial_rate) {
        hold_ = ramp_hold;
      } else if (from_lower_bound_ && !same_plateau) {
        hold_ = ramp_hold;
        probe_step_ = 2 * cfg_.probe;
      }
    }
    // Overrunning a window budget blocks for up to a whole window: probe
    // it far more rarely, once the same budget was measured twice. The
    // first measure is one observation, as rough as a ramp's: an outage's
    // long Retry-After soon after the start reads as a window of the few
    // requests sent so far. So probe again after one window, accelerating
    // (each step still waits a window span), until an overrun confirms it.
    if (window_budget && same_plateau)
      hold_ = std::min(cfg_.max_hold, std::max(hold_, 10 * retry_after));
    else if (window_budget) {
      hold_ = std::min(cfg_.max_hold, window_span_.value_or(retry_after));
      probe_step_ = 2 * cfg_.probe;
    }
    ceiling_ = c;
    // Nothing accepted yet (or too few to measure): 1/s is a floor, not a
    // ceiling, nor a plateau that a later measure near it would repeat;
    // slow start doubles from it until an overrun measures the budget.
    if (no_evidence) {
      ceiling_.reset();
      plateau_.reset();
    }
    from_lower_bound_ = no_evidence;
    overran_at_ = sent_rate;
    rate_ = std::max(cfg_.min_rate, cfg_.decrease * c);
    probe_after_ = now + hold_;
    last_decrease_ = now;
  }
  // Slow down at once: the next slot follows the new, lower rate.
  next_slot_ = std::max(
    {next_slot_, blocked_until(), last_sent_ + from_seconds(1.0 / rate_)});
  restart_epoch();
}

void pacer::recount_window() {
  // A late answer of the window a long Retry-After measured (see the
  // header): the same measure with one more accepted.
  if (!window_measure_ || !ceiling_)
    return;
  const auto& m = *window_measure_;
  auto a = accepted_before_block_ / m.span;
  auto c = std::min(m.sent_rate, a);
  if (c <= *ceiling_)
    return;
  ceiling_ = c;
  plateau_ = c;
  rate_ = std::max(rate_, cfg_.decrease * c);
}

void pacer::on_block_end(time_point now, time_point sent_at) {
  // Blocked for >= 2 s with no Retry-After to say why: a window (or a log)
  // ran out. Its budget is what was accepted from the previous block's end
  // (or the start) to this one's, over that span (as after a long
  // Retry-After, measured in on_throttled).
  // Fewer than min_measure accepted before it measure no window budget
  // (a second overrun soon after the first leaves one or two): the
  // decrease stands, a rate of ~1 per window would starve the run.
  if (block_with_retry_after_ || now - *last_decrease_ < ramp_hold
      || !first_completion_ || accepted_before_block_ < min_measure)
    return;
  // The window reset between the last rejected probe and this accepted
  // one (their send times): the middle is the estimate.
  auto reset = sent_at;
  if (last_rejected_sent_ && *last_rejected_sent_ < sent_at)
    reset = *last_rejected_sent_ + (sent_at - *last_rejected_sent_) / 2;
  auto span = to_seconds(reset - window_from_);
  if (span <= 0)
    return;
  auto a = accepted_before_block_ / span;
  if (window_from_start_)
    a = std::max(a, prior_ceiling());
  window_span_ = std::min(
    {from_seconds(span), cfg_.max_hold, window_span_.value_or(cfg_.max_hold)});
  block_end_ = now;
  // Counted over part of the span only (an ordinary 429 since the previous
  // block restarted the count): no window's budget, the decrease stands
  // (as after a long Retry-After; 27 s of requests over 240 s read as 6/s
  // against a budget of 58/s).
  if (counted_whole_ && (!ceiling_ || a < *ceiling_)) {
    ceiling_ = a;
    plateau_ = a;
    rate_ = std::max(cfg_.min_rate, cfg_.decrease * a);
    next_slot_ = std::max(next_slot_, last_sent_ + from_seconds(1.0 / rate_));
  }
  probe_step_ = cfg_.probe;
  // The first window counted from this pacer's own start spans its ramp
  // too: the span is a bound of the window, the count a rough measure of
  // its budget. Probe after one such span, as after a first long
  // Retry-After, not ten blocks' worth (a fixed window of 16 per 5 s read
  // as 2.85/s, 16 over 5.6 s, after a block of 7 s: held 70 s at 0.98 of
  // that, 90% of its budget after 83 s).
  hold_ = window_from_start_ && counted_whole_
            ? *window_span_
            : std::min(cfg_.max_hold,
                       std::max(hold_, 10 * (now - *last_decrease_)));
  probe_after_ = now + hold_;
}

void pacer::completed(time_point now, const flow_sample& s) {
  last_event_ = now;
  if (!first_completion_)
    first_completion_ = now;
  // Until a request sent after the last decrease is accepted: when each
  // answered one was sent (answers_pending).
  if (last_decrease_ && !accepted_since_throttle_
      && now - s.latency >= *last_decrease_)
    answered_sends_.push_back(now - s.latency);
  if (s.status == batch_status::ok || s.status == batch_status::throttled)
    refusals_.on_answer(now - s.latency, s.status == batch_status::throttled);
  bool steered = advertised_.steering(now);
  if (s.status == batch_status::throttled)
    advertised_.on_refused(now, s.latency);
  advertised_.on_answer(now, s.advice, s.latency);
  if (steered && s.status == batch_status::throttled) {
    if (!advertised_.on_throttled(now, s.latency))
      return; // one strike: the 429's own advice and Retry-After hold us
    // The headers were wrong: learning takes over from the pace the advice
    // kept, its quota rate (the 429 below then sets the ceiling from what
    // was accepted). With none known, nothing learned before and no rate
    // declared, as an unpaced start's ramp does: the last second's
    // accepted requests (or the window's) as a rough ceiling, probed on
    // accelerating; too few, a bound to slow-start from (min_rate as the
    // ceiling held one request per 20 s). Else from the pace learned or
    // declared, or sent lately (unpaced after a decrease, a later 429 with
    // nothing accepted since would take the block rule, whose backoff
    // paces only a rate).
    if (auto q = advertised_.quota_rate()) {
      rate_ = *q;
    } else if (!last_decrease_ && cfg_.initial_rate <= 0) {
      rate_ = 0;
      ceiling_.reset();
    } else {
      rate_ = std::max(cfg_.min_rate, recent_send_rate(now).value_or(rate_));
    }
  } else if (advertised_.steering(now)) {
    // Keep the learned state where the advice is, so that learning resumes
    // from it when the headers stop.
    if (auto q = advertised_.quota_rate()) {
      rate_ = *q;
      ceiling_ = *q;
    }
  }
  if (s.status == batch_status::throttled)
    return on_throttled(now, s.retry_after, s.latency);
  // A failure (timeout, 5xx, lost connection) halves the requests allowed
  // in flight (the slow start's window, or the paced limit): a server that
  // queues instead of answering 429 signals overload by latency alone, and
  // past the client's timeout each request waits behind the abandoned
  // ones it still serves.
  if (s.status == batch_status::retryable_failure) {
    slow_start_ = std::max<std::uint32_t>(1, slow_start_ / 2);
    after_failure_ = std::max<std::uint32_t>(
      1, std::min(after_failure_, max_in_flight_) / 2);
  }
  // A pause of more than 2 s between accepted requests (idle demand, an
  // outage) starts a new busy period: rates are measured within one.
  if (!last_accepted_ || now - *last_accepted_ > std::chrono::seconds{2})
    busy_since_ = now;
  last_accepted_ = now;
  accepted_.push_back(now);
  if (s.status == batch_status::ok && slow_start_ < max_in_flight_)
    ++slow_start_;
  if (s.status == batch_status::ok && after_failure_ < max_in_flight_)
    ++after_failure_;
  while (!accepted_.empty() && accepted_.front() < now - cfg_.measure_window)
    accepted_.pop_front();
  // Counted by the window the request was sent in: one sent before the
  // last decrease counts to the window that decrease closed (a volley's
  // answers still arrive after its first 429; counting only those before
  // it took 3 of a window's 18 as its budget), not to the next one's.
  if (last_decrease_ && now - s.latency < *last_decrease_) {
    ++accepted_before_block_;
    recount_window();
  } else {
    ++accepted_since_decrease_; // from the start until a decrease
    accepted_sends_.push_back(now - s.latency);
    while (!accepted_sends_.empty()
           && accepted_sends_.front() < now - cfg_.measure_window) {
      accepted_sends_.pop_front();
      accepted_sends_pruned_ = true;
    }
    if (!first_sent_since_decrease_)
      first_sent_since_decrease_ = now - s.latency;
  }
  // Only a request sent after the last decrease shows the block is over.
  if (!last_decrease_ || now - s.latency >= *last_decrease_) {
    if (last_decrease_ && !accepted_since_throttle_) {
      // A single probe got through: the next send follows at r, not the
      // backoff sent() put after it. (After a probe at r with Retry-After
      // the backoff stands: one token back in a bucket is not r.)
      if (probe_singly_) {
        auto gap = rate_ > 0 ? from_seconds(1.0 / rate_) : duration{0};
        next_slot_ = std::min(next_slot_, std::max(now, last_sent_ + gap));
      }
      on_block_end(now, now - s.latency);
    }
    accepted_since_throttle_ = true;
    answered_sends_.clear();
    // Sent before a 429 held while answers were pending, and accepted:
    // that 429 was the lowered pace overrunning, not a shut limiter.
    if (deferred_ && now - s.latency < deferred_->sent) {
      auto d = *deferred_;
      deferred_.reset();
      on_throttled(now, d.retry_after, now - d.sent);
      return;
    }
  }
  if (s.status != batch_status::ok || rate_ <= 0 || !slot_bound_)
    return;
  // Slow start from a bare lower bound (above) doubles every second of
  // successes (at least two): the rate is known only to be at least this,
  // and the overrun that ends the ramp is what measures it. (A declared
  // rate is a guess near the budget: its slow start takes full epochs.)
  // Below 1/s an epoch is min_epoch seconds' worth, at least three: ten
  // successes at 0.2/s took 50 s a step.
  bool quick = !ceiling_ && from_lower_bound_;
  auto full
    = std::max(3.0, std::min<double>(cfg_.min_epoch, cfg_.min_epoch * rate_));
  auto epoch = std::max<double>(quick ? 2.0 : full, rate_);
  if (++epoch_successes_ < epoch)
    return;
  bool untested = in_flight_bound_;
  restart_epoch();
  if (untested && (!ceiling_ || rate_ >= cfg_.recover * *ceiling_))
    return;
  if (!ceiling_) {
    passed_ = rate_;
    // A declared rate is a guess near the budget: its slow start doubles
    // once (told half the budget, the budget is there). At the next epoch
    // the rate that passed becomes a first, rough ceiling, probed up from
    // the one after, accelerating (4%, 8%, 16%, ...), as after a first
    // measure. Doubling on, a bucket whose burst hid the overrun for
    // seconds was run to 8x the declared rate (told the right 2/s, a burst
    // of 25: 16/s and eight 429s in a second). Stepping up at once instead
    // of holding that epoch: more 429s on the zoo than doubling on.
    if (!from_lower_bound_ && cfg_.initial_rate > 0
        && rate_ >= 2 * cfg_.initial_rate) {
      ceiling_ = rate_;
      probe_step_ = 2 * cfg_.probe;
      probe_after_ = now;
    } else {
      rate_ *= 2;
    }
  } else if (rate_ < cfg_.recover * *ceiling_) {
    rate_ = std::min(cfg_.recover * *ceiling_, rate_ * 1.25);
  } else if (now >= std::max(probe_after_, quiet_until_)
             && (!window_span_ || !last_probe_
                 || now - *last_probe_ >= *window_span_)) {
    // The epoch that just passed at the old rate (since the last step).
    if (probed_since_decrease() && now - *last_probe_ <= cfg_.measure_window)
      held_rate_ = accepted_recently(now, now - *last_probe_);
    last_probe_ = now;
    rate_ *= 1 + probe_step_;
    // Well past the rate that last overran (c itself may understate it):
    // the budget grew, or a large burst allowance hides the overrun for
    // now. Either way recovery aims higher from here; whether it was the
    // same plateau after all, the next 429 tells (against plateau_). After
    // a rough estimate (p > probe) each epoch without a 429 doubles the
    // step: a budget far above it is found in a few epochs, not dozens.
    if (probe_step_ > cfg_.probe) {
      ceiling_ = rate_;
      probe_step_ = std::min(widest_step_, 2 * probe_step_);
    } else if (rate_ > 1.1 * std::max(*ceiling_, overran_at_)) {
      ceiling_ = rate_;
    }
  }
}

} // namespace batching
