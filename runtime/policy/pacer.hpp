#pragma once

// Pacer: our flow controller (flow_control.hpp). One request budget per
// backend, shared by every operation type that uses the backend (its gate
// actor owns the only instance, so the budget cannot be double-counted).
//
// Algorithm. State: rate r (requests/s; 0 = unpaced), ceiling c (the
// sustainable rate as last measured at a 429; unknown at first), hold h
// (how long to stay below c before probing above it), next slot s,
// blocked-until b (Retry-After, kept by flow_controller), in-flight f.
//   earliest(now) = none while f >= n, else max(now, b, s if r > 0)
//   n = max_in_flight, except unpaced with nothing known yet (no 429, no
//     rate-limit headers): n starts at 1 and grows by one per success
//     (doubling per round trip): the first answer may carry headers, and
//     an unknown budget is never hit by a volley of max_in_flight at once;
//     a retryable failure (timeout, 5xx) halves n (at least 1), paced or
//     not, and each success adds one back: a server that queues instead
//     of rejecting says "overloaded" only by latency
//   on_sent(now):  f += 1; s = max(now, s) + 1/r            (pacing)
//   throttled (429 with Retry-After ra), at most once per window of
//   max(1 s, 1/r) (the 429s of one overrun are one signal), except that
//   a request sent after the last decrease, throttled within that window
//   with Retry-After < 2 s once another sent after it was accepted (with
//   none accepted, the block rule below), shows the lower pace overrunning too:
//   c' = min(r, max(decrease * r, accepted since the decrease per second since
//   the first of them was sent, when >= 3 were)), r = decrease * c', h =
//   initial_hold, p = probe (a correction of the first measure, no plateau
//   confirmed): a bucket's burst, drained by the ramp before it overran,
//   inflates the ramp's measure (10/s with a burst of 50 read as 42/s), and one
//   second at 0.85 of it drew a 429 per slot above the budget (55 in two
//   minutes; 11 now);
//     while ramping (an unpaced start: r = 0 and c unknown; or probes
//         accelerating, p > probe) and
//         not a window overrun (below): c' = the requests accepted per
//         second over the last H (above; capped by r when paced), at least
//         (paced) their rate by spacing, (n - 1) / (newest - oldest) over
//         H (a count of 9 in a second at 9.8/s understates by 8%), and
//         the accepted rate of the whole epoch before the last probe step
//         (a_e below: it passed without a 429; the last second mixes it
//         with part of the overrun's): the rate was still rising,
//         so window averages would understate the budget (unpaced with
//         none accepted over H: c' from the window's average a below,
//         as rough); unless c' is
//         the same plateau as before (below), h = 2 s and p = 2 probe
//         (probe again soon, accelerating: a rough estimate); an
//         accelerating step wider than 4 probe (half the next step, which
//         is past 8 probe) confirms no plateau: it brackets the budget
//         between the rate below it and the overrun's too loosely (32%: a
//         ceiling of 8.7/s against 10/s held for 20 s), but when its c'
//         is near the last plateau (the same bounds) the next climb's
//         steps stop at 8 probe, so that its overrun can confirm it (a
//         delaying bucket overruns only once its queue is full, steps
//         later: nginx at 2.8/s, overrun at a wide step every ~18 s,
//         never confirmed the same ceiling for ten minutes); later
//         measurements of a (below) start no earlier than this 429;
//     a = requests accepted per second over the last `measure_window`
//         within the current busy period (no pause over 2 s between
//         accepted requests), when that spans >= 2 s (>= 1 s once the
//         pacer's own holds, below, are taken out of it); trusted when
//         >= 60% of its sends waited for their slot (the pacer was the
//         bottleneck, so the budget is what got accepted);
//     c' = min(r_sent, a) after a long Retry-After (>= 2 s: a window
//          budget ran out; then a = accepted since the previous block
//          ended (or the start) / the time from then to this block's end:
//          the window's budget over its length, provided no decrease came
//          in between, since the count restarts at each: a few requests
//          over the whole span would read as a budget of ~0, e.g. an
//          outage's Retry-After soon after an ordinary 429); requests
//          sent before the 429 and accepted after it (a volley's 429 comes
//          back before its accepted answers) count too: each raises c to
//          min(r_sent, a) with the larger count (and r to decrease x c)
//          until the next decrease (3 sends at once into 2 per 3 s took
//          the one answer before the 429 as the window's: 0.2/s); while
//          probes accelerate (each step waits a window span), at least
//          a_e (below): the step under the overrun passed a whole window,
//          and the average spans the climb (a counter of 0.5/s read as
//          0.36-0.41/s was probed up again each minute, 11 429s);
//          min(r_sent, max(a, a_e)) when a is trusted, with a_e the
//          requests accepted per second over the last whole epoch before
//          the last probe step (between the two steps before this 429,
//          both after the last decrease; none otherwise): probing up, a
//          averages the climb and the hold before it, while the epoch at
//          the step below the overrun passed without a 429 (nginx
//          without a burst held at 0.95 x the climb's average, ~79%);
//          with no probe step since the last decrease (the pace held
//          overran: a ceiling a burst inflated), a_e is instead a rate
//          measured from the requests accepted since that decrease (the
//          first of them sent >= 2 s ago): the window's average spans
//          the climb before it (a bucket of 20/s with a burst of 5 was
//          held at ~88% by it). The 429 behind the decrease emptied the
//          limiter and this one finds it empty, so for a token bucket:
//            upper bound: their count per second since the first of
//              them was sent (it leaves out the tokens refilled before);
//            lower bound: their count per second since the decrease
//              (short only by tokens that overflowed the cap meanwhile,
//              e.g. while a Retry-After blocked), and at least (count -
//              max(1, b)) per second since the first was sent (no more
//              than the cap refilled before it);
//            a_e = the upper bound; but when the previous decrease was
//              such a 429 too (the upper bound overran), the lowest
//              refill rate at which a bucket of capacity max(1, b),
//              empty when the 429 behind the decrease was sent, accepts
//              a request at each of their send times (bisection; send
//              times are kept over the measure window, none fitted when
//              older ones were dropped), clamped to the bounds; b = what
//              the first volley of an unpaced start got through beyond
//              the rate its overrun measured (count - c' x span), 0
//              otherwise (capacity 1: each gap must refill a whole
//              token, which send jitter makes a high rate, so the upper
//              bound applies);
//          (the upper bound alone, against nginx with a burst of 10
//          whose Retry-After: 1 refills it, measured 13/s for 10/s and
//          converged from above, one 429 every 3-30 s; the lower bound
//          alone held that bucket of 20/s with a burst of 5, whose
//          one-second blocks overflow it, at 87%; the fit at the first
//          such 429 took a fixed window of 40/s, 77 accepted in the 2 s
//          after a one-second block, for a bucket of 25.8/s with the
//          volley's burst of 28: the data fit both);
//          else (demand, not the
//          pacer, set the pace, so `a` is the demand) min(r_sent,
//          max(a, s5)) with s5 the requests
//          actually sent per second over the last 5 s of the busy period
//          (a block's probes before it are no pace): the pace that did
//          overrun; without enough sends for s5, max(min(r_sent, a),
//          decrease * r_sent). r_sent: the rate the pacer allowed; when
//          unpaced, the measured send rate (before its first ~1 s
//          measure, the sends of the last second: a first second's
//          volley is not 1/s); and without a long Retry-After, with r_sent
//          above the rate r_pass a slow start's last doubling left (an
//          epoch passed at it), c' = max(c', r_pass): the budget is at
//          least r_pass, whatever the window's average says (told 78/s,
//          right, a second overrun read 41/s, its span holding the first
//          one's 1 s block); once a pace at or below r_pass overruns,
//          r_pass is dropped;
//     h = min(max(2h, initial_hold), max_hold) when c' is within
//         -20%/+25% of the c' of the previous 429 (the same plateau
//         again), else initial_hold, but 2 s at the first overrun of a
//         declared rate's slow start that doubled it (no window budget)
//         with c' below r / 2, the rate before the last doubling, which
//         passed a whole epoch: the window's average spans the seconds at
//         the declared rate, an understatement (told 5/s, a limit of
//         10/s read 6.9/s and was held 20 s), and 2 s with p = 2 probe at
//         the first overrun of a slow start from a bare lower bound with
//         c' below r / 2 (not the same plateau: a log of 3 per 1 s read
//         0.91/s after 1.7/s passed, and climbing 2% an epoch took 386 s
//         to 90% of it); c' in both tests as measured, before the r_pass
//         floor below (floored, it is r / 2 exactly, and neither held:
//         that log took 118 s to 90%); p = probe; and when a probe step
//         overran that plateau again with c' >= recover x r / (1 + probe)
//         (the step below passed: the budget is bracketed), no probe for
//         min(max_hold, (1 + c' ra) / (probe_cost x c'))
//         either: each probe into it costs about one 429, and the c' ra
//         requests its Retry-After ra keeps from going (nginx with
//         "Retry-After: 1" at 10/s: eleven requests' worth), and below
//         10/s the doubling from 20 s alone let probing cost 1-3% of the
//         requests; a c' further below (a window's average over the
//         climb, a held pace that overran) may be under the budget, which
//         only probes find: it ends that wait (a held pace's overrun with
//         c' near it keeps it);
//     after a long Retry-After on the same plateau h = min(max_hold,
//     max(h, 10 ra)) (a window overrun blocks for up to a window: probe it
//     rarely); on a new one (a first measure, one observation: an outage's
//     long Retry-After soon after the start looks like a window of the few
//     requests sent so far) h = w and p = 2 probe: probe again after a
//     window, accelerating, until an overrun confirms it;
//     unpaced (r = 0), c' <= max(1, the accepted rates above): the send
//     rate of an overrun says nothing about the budget (with nothing
//     accepted it was taken as the ceiling: a 429 storm without
//     Retry-After);
//     c = c'; r = max(min_rate, decrease * c); probing resumes at now + h;
//     if nothing was ever accepted, c stays unknown (1/s is a floor to
//     slow-start from, not a ceiling, and no plateau); likewise unpaced
//     with fewer than 3 requests accepted in the last second: an overrun
//     that early measured a lower bound, not a rate (a limiter without
//     burst rejects the second of two requests sent at once, whatever its
//     rate), so slow start doubles from it instead of probing up from it
//     in steps;
//   and on every 429: b = max(b, now + ra); s = max(s, b, last send + 1/r)
//     -> no request before b, ever (Retry-After honoured);
//   a 429 of a request sent before the last decrease belongs to the
//     overrun that decrease measured: nothing more is learned from it;
//   a 429 of a request sent after the last decrease, with nothing
//     accepted since it, is no new measure (a window or a log that counts
//     rejections stays shut; an accepted rate of 0 is not the budget),
//     except while requests sent after the decrease and before it have
//     no answer yet (a 429 comes back sooner than an accepted request,
//     which carries the work) and it has a Retry-After (without one, the
//     rounds below count a volley's 429s as one step): then the next
//     send waits max(Retry-After, the backoff, not grown), and the first
//     of those requests accepted replays the 429 as an ordinary one (the
//     lowered pace overran; as a block, a volley's five 429s grew the
//     backoff to 8 s and the next measure took the idle time for the
//     pace's: 0.6/s for 5/s); the wait beyond Retry-After (and beyond the
//     slot already set) is the pacer's own caution, left out of the spans
//     of a and s5 (an exact Retry-After of 4 ms held 1 s twice, and a
//     read 23/s for nginx's delaying bucket of 83/s); nor
//     is one while probes accelerate after a rough estimate, without a
//     long Retry-After, with fewer requests accepted per second over the
//     last H = max(1 s, 4 / r) than min(3, r / 4) (the limiter is shut, a
//     window spent by a volley: one request let through is not a budget of
//     1/s; H spans four slots, as a second is mostly quiet below 4/s),
//     unless the epoch before the last probe step passed (a_e known: the
//     cut measures at least that) and a request sent before this one is
//     still out (an accepted answer carries the work and comes back after
//     a 429: a log of 3/s probed at 4.7/s took three of each six, their
//     answers 2 s after the 429s, and the pace stayed above it): r
//     and c stay, and the next send waits a backoff that starts at 1 s and
//     grows 1.5x per such 429 up to max_backoff (with Retry-After only
//     from the second such 429 on, and never less than it: it says when a
//     request could pass, not that it will); without Retry-After, per
//     round of them instead (the 429s of requests sent before the
//     previous step's 429 came back: the requests in flight when the
//     block began are one step, not one each, which took it to its 60 s
//     cap against a window of 3 s), a probe in the block is one request
//     per backoff, not a volley at r (14 at 68/s each time a 55 s
//     window's backoff ran out), nor before the rejection cap allows it
//     (rejection_cap.hpp; with Retry-After, as the backoff, from the
//     second such 429 on): the refusals of the last 10 s stay within what
//     the accepted rate allows (backoffs of 1-2.25 s sent four 429s in
//     ten seconds into a counter of 0.25/s, 1.6x its budget's rate); the
//     probe that gets through lets the next request follow at r (with
//     Retry-After, probes go at r after it and an accepted one is a
//     token, not the limiter reopened: a round per step and r at once
//     after it stormed a bucket of 1.25/s);
//     when such a block (>= 2 s, no Retry-After) ends with an accepted
//     request and >= 3 were accepted before it (fewer measure nothing),
//     it was a window: as after a long Retry-After, a = the
//     requests accepted from the previous block's end (or the start) to
//     this block's start (by send time: an answer of a request sent before
//     the decrease counts to the window that decrease closed, however late
//     it comes, and not to the next), over the span to its end (estimated
//     midway between the send times of the last rejected probe and the accepted
//     one); c = min(c, a), r = decrease * c, w = min(w, span), h = max(h,
//     10 x the block), but h = span for the first, counted from this
//     pacer's own start (its ramp within the span: a bound of the window,
//     a rough count; held 70 s, a window of 16 per 5 s reached 90% of its
//     budget after 83 s); unless an ordinary 429 came within that span (the
//     count restarted there: part of the span's requests over all of it
//     is no budget), when the decrease stands and only w, h are updated.
//   ok: counts towards an epoch of max(r, 3, min(min_epoch, min_epoch x
//     r)) successes (below 1/s, min_epoch seconds' worth, at least three:
//     ten successes at 0.2/s took 50 s a step, and a budget of 0.67/s
//     measured at 0.2 minutes to climb back) sent while the pacer was the
//     bottleneck (demand waited for a slot; max(2, r), a
//     second's worth, in a slow start from a bare lower bound: only the
//     overrun that ends it measures anything); at the end of an epoch
//     during which a send waited for one of the n in flight to come back
//     past its open slot (the in-flight limit, not r, held the sends back:
//     a step above r is not tested by it), only recovery (r < recover x
//     c) goes on: no
//     slow-start doubling, no probe (nginx's delaying bucket, answering
//     late, passed epochs at 46/s sent while r doubled to 188/s; a burst's
//     32 requests after an idle spell then drew 12 429s at once, each
//     taken for a shut limiter, the backoff at its 60 s cap each time);
//     otherwise:
//       c unknown:              r_pass = r, r = 2r          (slow start),
//         but once r >= 2 x a declared rate (not from a bare lower bound):
//         c = r, p = 2 probe, probe time = now (the declared rate is a
//         guess near the budget: doubled once, the rate that passed is a
//         first, rough ceiling, probed up accelerating from the next
//         epoch; doubling on, a bucket's burst hid the overrun until 8x
//         the declared rate: told the right 2/s, a burst of 25, 16/s and
//         eight 429s in a second);
//       r < recover * c:        r = min(recover * c, 1.25 r) (recovery;
//                               recover = 0.98: c is what an epoch passed
//                               at, so the margin covers only timing
//                               jitter; 0.95 held a limiter without burst
//                               at ~93%)
//       now >= probe time:      r = (1 + p) r               (probe),
//         at most once per window span w once a window overrun was seen
//         (w = the shortest span an overrun's measure used, from the
//         previous block's end to this one's, at most max_hold: spans are
//         whole numbers of windows, and rare probes make them long): a
//         window shows an overrun only when its count runs out, so a step
//         is tested only after a whole window (per epoch, steps compounded
//         far past the budget before the first 429, and the block lasts
//         to the window's end; later overruns then come at a window's end
//         with a short Retry-After, count as ordinary 429s and leave w);
//         and if accelerating (p > probe): c = r, p = min(p_max, 2p)
//         (p_max = max_probe, or 8 probe after a wide step as above);
//         else if r > 1.1 max(c, the rate that overran last) without a
//         429, the budget may have grown: c = r (the same-plateau test
//         compares with the c measured at the last 429, so a burst
//         allowance that hides an overrun for a while does not reset h;
//         probing continues each epoch until a 429);
//       otherwise:              hold r.
// Advertised budgets: while rate-limit headers steer (advertised_budget.hpp:
// fresh, not contradicted) they alone pace, nothing above is learned, and
// r, c follow the advertised quota rate so that learning resumes from it;
// the 429 that distrusts them hands over to learning at once, from r = the
// quota rate (advertised, or a bucket's refill estimated from the answers),
// or, with none known, no decrease before and no rate declared, as an
// unpaced start (r = 0, c unknown: its ramp rules; min_rate as the ceiling
// held one request per 20 s); else from r then (learned or declared) or
// the send rate of the last 5 s (unpaced after a decrease, the block rule
// would not pace its rejected requests).
// Why: a budget is found by overrunning it, and each overrun costs 429s;
// probing again and again into the same ceiling is the only steady source
// of 429s, so each confirmation of the same ceiling doubles the wait before
// the next probe, while a new ceiling (the budget changed) resets it.
// A restarted gate's pacer starts from its predecessor's r and c
// (initial_rate, initial_ceiling): a fresh slow start in a window its
// predecessor had partly spent would overrun it at once and take the few
// requests left as the whole window's budget. For the same reason its
// first window overrun (counted from its own start, maybe mid-window)
// measures at least max(that ceiling, that rate), capped by r_sent; the
// next, counted from a block's end, measures the window whole. A rough
// ceiling (probes accelerating) stays rough in the successor, and the
// predecessor's Retry-After still holds (flow_settings::blocked_until).
// Inputs: send and completion events with `now`; statuses; Retry-After.
// Invariants: consecutive sends are at least 1/r apart (r at the time of
// the later send); no send before b; f <= max_in_flight.

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <vector>

#include "runtime/policy/advertised_budget.hpp"
#include "runtime/policy/flow_control.hpp"
#include "runtime/policy/rejection_cap.hpp"

namespace batching {

class pacer final : public flow_controller {
public:
  struct config {
    std::uint32_t max_in_flight = 4;
    double initial_rate = 3; // requests/s; 0 = unpaced
    /// Resuming a predecessor (a restarted gate): initial_rate is the rate
    /// it paced at and initial_ceiling its ceiling (0: none measured);
    /// both are evidence of the budget, not a configured guess.
    bool resumed = false;
    double initial_ceiling = 0;
    bool rough_ceiling = false;   // a first measure: probe it, accelerating
    double min_rate = 0.05;       // never slower than one request per 20 s
    double decrease = 0.85;       // r after a 429, as a share of the ceiling
    double recover = 0.98;        // climb quickly back to this share of c
    double probe = 0.02;          // then probe upward this much per epoch
    double max_probe = 1.0;       // largest step once past the old ceiling
    std::uint32_t min_epoch = 10; // successes per epoch (s below 1/s)
    duration initial_hold = std::chrono::seconds{20};
    duration max_hold = std::chrono::seconds{600};
    /// Share of the requests a confirmed plateau's probes may cost: each
    /// finds the ceiling with about one 429 and holds every send for its
    /// Retry-After ra, so at least (1 + c ra) / (share x c) seconds pass
    /// between them. A third of the goal's median of 0.3% throttled: the
    /// start's 429s come on top, about two thirds of a median draw's on
    /// the zoo (at 0.005, Retry-After only sat at a median of 0.34%; at
    /// 0.0025, 0.32%).
    double probe_cost = 0.001;
    duration measure_window = std::chrono::seconds{30};
    duration max_backoff = std::chrono::seconds{60};
  };

  pacer();
  explicit pacer(config cfg);

  flow_kind kind() const override { return flow_kind::pacer; }
  /// The advertised pace while rate-limit headers steer, else the learned.
  double rate() const override;
  std::optional<double> ceiling() const override { return ceiling_; }
  /// Probes accelerate: the ceiling is a first, rough measure.
  bool ceiling_rough() const override { return probe_step_ > cfg_.probe; }
  /// Unpaced with nothing known yet: one request, then one more per
  /// success (slow start); else max_in_flight.
  std::uint32_t allowed_in_flight() const override;
  duration hold() const { return hold_; }

  /// Timestamps kept for the rate measurements (bounded by the window).
  std::size_t measurements() const {
    return sends_.size() + accepted_.size() + accepted_sends_.size()
           + self_held_.size() + refusals_.kept();
  }

protected:
  time_point pace(time_point t) override;
  void held_in_flight() override;
  void sent(time_point now) override;
  void completed(time_point now, const flow_sample& s) override;

private:
  /// Accepted requests per second over the measure window within the
  /// current busy period, if that spans at least 2 s.
  /// `trusted`: most sends in that time waited for their slot.
  std::optional<double> accepted_rate(time_point now, bool& trusted);
  void on_throttled(time_point now, duration retry_after, duration latency);
  /// A new epoch: its successes counted from none, and the in-flight limit
  /// not seen holding its sends back yet.
  void restart_epoch();
  /// The first request accepted after a block of 429s without Retry-After.
  void on_block_end(time_point now, time_point sent_at);
  /// A late answer counted to the window a long Retry-After measured.
  void recount_window();
  /// The restored ceiling while no window overrun of its own was measured
  /// (0 after one, or when none was restored).
  double prior_ceiling() const;
  /// Requests accepted per second over the last `horizon` (while ramping).
  std::optional<double> accepted_recently(time_point now,
                                          duration horizon) const;
  /// Accepted requests per second over the last `horizon` from their
  /// spacing: (n - 1) / (newest - oldest), n >= 3 (a count over the
  /// horizon is quantised: 9 in a second at 9.8/s). Paced answers only
  /// (a volley's arrive at once).
  std::optional<double> accepted_spacing(time_point now,
                                         duration horizon) const;
  /// Some request sent after the last decrease and before `sent_at` has
  /// no answer yet.
  bool answers_pending(time_point sent_at) const;
  /// Some request sent no later than `sent_at` is still in flight.
  bool earlier_in_flight(time_point sent_at) const;
  /// A probe step came after the last decrease (none before any).
  bool probed_since_decrease() const;
  /// Requests sent per second over the last 5 s of the busy period (>= 3
  /// sends over >= 2 s), the pacer's own holds left out (>= 1 s left).
  std::optional<double> recent_send_rate(time_point now) const;
  /// How long within [from, to] the pacer held itself back (self_held_).
  duration held_within(time_point from, time_point to) const;
  /// Records [from, to) as held by the pacer's own backoff.
  void hold_self(time_point from, time_point to);

  config cfg_;
  advertised_budget advertised_;
  rejection_cap refusals_; // paces a block's probes
  time_point last_event_{};
  double rate_;
  std::optional<double> ceiling_;
  double overran_at_ = 0;         // the rate sent when c was last set
  std::optional<double> plateau_; // c as measured at the last 429
  duration hold_;
  double probe_step_ = 0;
  double widest_step_; // accelerating steps stop here (max_probe or 8 probe)
  time_point probe_after_{};
  time_point quiet_until_{}; // no probe before (probe_cost)
  std::optional<time_point> last_decrease_;
  time_point next_slot_{};
  time_point last_sent_{};
  bool slot_bound_ = false; // the last earliest() waited for the slot
  bool waited_ = false;     // the next send's demand waited for its slot
  std::uint32_t epoch_successes_ = 0;
  bool in_flight_bound_ = false; // the in-flight limit held sends this epoch
  bool held_full_ = false;       // asked while all allowed were out
  // In flight allowed while paced: halved per failure, +1 per success.
  std::uint32_t after_failure_ = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t slow_start_ = 1;  // in flight allowed while unpaced, unknown
  bool from_lower_bound_ = false; // slow start from an overrun's lower bound
  bool accepted_since_throttle_ = false; // since the last decrease
  // Until one sent after the last decrease is accepted: the send times of
  // the answers to those sent after it, and a 429 that came while some of
  // them were still out (answers_pending).
  std::vector<time_point> answered_sends_;
  struct deferred_429 {
    time_point sent;
    duration retry_after;
  };
  std::optional<deferred_429> deferred_;
  double accepted_before_block_ = 0; // accepted in the window it ended
  time_point window_from_{};         // ... since then
  bool window_from_start_ = false;   // ... which was this pacer's start
  bool counted_whole_ = false;       // ... and counted all the way
  // A long Retry-After's window measure, until the next decrease: its span
  // (s) and the rate sent then, for the late answers that count to it.
  struct window_measure {
    double span;
    double sent_rate;
  };
  std::optional<window_measure> window_measure_;
  bool block_with_retry_after_ = false;
  std::optional<time_point> last_rejected_sent_; // the block's last probe
  duration backoff_{std::chrono::seconds{1}};
  std::optional<time_point> backoff_round_; // when backoff_ last grew
  // The block's last 429 had no Retry-After (backoff_round_ is then set).
  bool probe_singly_ = false;
  std::deque<time_point> accepted_; // completion times, measure window
  std::deque<std::pair<time_point, bool>> sends_; // and whether bound
  // Spans the pacer held sends beyond what Retry-After asked (its backoff
  // while a volley's answers were pending), merged, measure window only.
  std::deque<std::pair<time_point, time_point>> self_held_;
  std::optional<time_point> busy_since_;
  std::optional<time_point> measure_from_; // the last ramp estimate
  std::optional<time_point> last_accepted_;
  double accepted_since_decrease_ = 0;
  std::optional<time_point> first_sent_since_decrease_; // ... accepted
  std::optional<time_point> block_end_;  // of the last window overrun
  std::optional<duration> window_span_;  // w: probe steps at most this often
  std::optional<time_point> last_probe_; // the last probe step
  std::optional<double> held_rate_;      // accepted in the epoch before it
  std::optional<double> passed_;         // r_pass: a slow start's epoch passed
  bool held_overran_ = false; // the last decrease: a 429 at the pace held
  double burst_seen_ = 0;     // accepted beyond its rate by the first volley
  // Send times of the requests accepted since the last decrease, over the
  // measure window (pruned: some older ones dropped), and the send time
  // of the 429 behind that decrease.
  std::deque<time_point> accepted_sends_;
  bool accepted_sends_pruned_ = false;
  time_point decrease_sent_{};
  std::optional<time_point> first_completion_;
  // Send-rate measurement for throttles while unpaced.
  std::optional<time_point> window_start_;
  std::uint32_t window_sends_ = 0;
  double measured_rate_ = 0;
};

} // namespace batching
