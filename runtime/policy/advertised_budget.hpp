#pragma once

// Advertised budget: spends exactly what the backend's rate-limit headers
// say is left (rate_limit_headers.hpp), so a backend that advertises its
// quota sees no 429 at all. The pacer owns one and lets it steer while its
// advice is fresh and has not been contradicted; otherwise the pacer learns.
//
// Algorithm. An answer carries advice (q per w, r left, t until reset) as
// the server saw it when the request arrived: at its stamp, taken as
// now - latency (the limiter counts on arrival; the trip out is part of
// the latency, so the stamp is early by at most the trip back).
//   Requests sent after the stamp are not counted in r yet ("uncounted";
//   those within 1 ms of it, sent together, may have arrived before or
//   after the answered one: counted as not yet); requests still in flight
//   but sent before it are.
//   Answers whose stamp is older than the newest one seen change nothing;
//   of those sharing the newest stamp (sent together), r is the least.
//   reset_at = the tightest of stamp + t + slack over one window's answers
//     (t is rounded up to whole seconds by most servers, so each is an
//     upper bound; one over a second beyond the current, or stamped at or
//     after it, starts a new window, and so does one showing the whole
//     quota back (r + those counted >= q >= 3, no bucket seen): a window
//     first answered late in it bounds its reset late, by up to a second,
//     and the next window's quota was spent as the last one's remainder
//     before that bound, a volley and a 429); slack = 0, or 1 s after a
//     429 while steering;
//   window length W = w when advertised, else the shortest gap between
//     consecutive resets seen (so the next windows can be projected),
//     counted only where the new window is fresh: r plus the sends since
//     the reset >= q - 1 (a sliding log's reset frees a few slots), and r
//     rose (a bucket's "until full" recedes with every send while r falls);
//   bucket or window: r above the last answer's r less the requests the
//     server counted between the two stamps (sends in between, and those
//     at the previous stamp's instant besides the answered ones), by at
//     least one beyond the sends of either instant whose order is not
//     known (the previous one's unanswered, this one's others: a volley's
//     answers come back out of order), before the last reset (or past it
//     without the quota back where no more than q / 2 was ever seen left:
//     a bucket far below its advertised q, whose "until full" rounded up
//     puts every answer past a reset) = a refill, unless the whole quota
//     is back (r + those counted >= q - 1) and w is advertised (that
//     window reset before its rounded-up bound) or the stamp is within a
//     second of that bound (without w a window's reset or a bucket full
//     again, no evidence either way); two refills make it a token bucket;
//   quota rate qr = q / W; for a bucket without W, the measured refill.
//     A bucket (refills, r_max + 2 < q, and no answer whose r plus our
//     sends the server counted within the last t_max made up q - 2: a
//     log or a window holds the whole quota less our sends within its
//     span, a bucket only its capacity): every pair of answers a, b up
//     to 60 s apart and >= 1 s bounds it from below,
//       R > (r_b - r_a - 1 + counted in between) / (stamp_b - stamp_a)
//     (the level rose by r_b - r_a within a token of the two whole
//     counts; a full bucket wasted refill, so the bound holds there too);
//     counted = our sends less those answered 429, all sends within 1 ms
//     of a's stamp counted before a, none of b's but its own; answers
//     marked 250 ms apart at least, each with the best bound ending at
//     it; qr = the best bound of the last 60 s (pacing at it, the level
//     model below spends what each answer shows on top, so the bound
//     rises to the refill as it is spent), or the rate a 429 cut it to
//     (below) where higher. A bucket under two tokens (r_max < 1) shows
//     r = 0 full or not: while we send at the rate taken (over the last
//     max(1 s, 3 / rate), at least 0.9 of that rate's sends), once a
//     second a step to 1.25 x (x the most of the bound, the rate held and
//     the rate sent), but no more than halfway to the least rate a 429
//     cut, and not at all within 1% of it, nor at a 429's own answer (its
//     cut follows); a bound past that rate clears it.
//     Otherwise (a log or window taken for a refilling limiter): over the
//     span since an anchor answer >= 1 s back, (r - r_a + sends since - 1)
//     / span, restarted when it shows full (r >= r_max), not below the
//     floor while that is fresh (<= 30 s old): full at two answers <= 30 s
//     apart, >= 1 s, R >= (sends between - 1) / span; times 1.25 at an
//     answer showing it full (at most once a second) while we send at the
//     rate taken, no more than halfway to the least rate a 429 cut and
//     not within 1% of it;
//     before any measure, (r_max - r) / t (t rounded up: an understatement of
//     "until full"), but no more than the newest two answers show,
//     (gained + 1) / (their stamps' gap) (t may mean until the next
//     token, as a sliding log's does). The floor and the growth leave out
//     a log that holds the whole quota (r_max + 2 >= q; servers advertise
//     a bucket's long-run rate as q, far above its capacity). A bucket's
//     reset ("until full") moves with every send: the newest answer's
//     holds.
// Spending at x (pace):
//   only q per w known (no r with t yet; HAProxy's sliding counters
//     advertise no reset): q/w apart, and the send q after one not before
//     that one + w + the newest round trip + 1 ms (windows may begin at
//     any instant; the trip out varies by at most a round trip); when
//     the newest answer's r (without t) less the sends after its stamp is
//     below 1, two slots apart (a sliding counter's estimate frees about
//     one per slot, rounded: at exactly q/w it rejects now and then);
//   a log (seen sliding, refills seen with the whole quota once left at
//     once, or r plus our sends within the longest t once making up
//     q - 2: a log freeing its slots one by one, though a declared pace's
//     first volley reached it before any answer; no counter as below),
//     with its span S (below): level = r - uncounted - k, plus one for
//     each of our sends leaving it, S after it was sent (sent in
//     (stamp - S, x - S], those answered 429 left out: a sliding log
//     never held them); send at x if the level there is >= 1, else when
//     the next of ours leaves; never more than q - k - l per S, evenly
//     (a volley spent at once carries into the next span: a counter's
//     weight; a trip out varying reorders the edge), l the last slot
//     below. Taken for a bucket
//     (the span rule below on top), such a log was overrun: 10 per 2 s
//     behind X-RateLimit-*, 20 429s in 600 s and 0.76 of its budget; 9
//     per 6 s, answers 2.8 s away, 8 and 0.69 (now 0 and 0.997, 0 and
//     0.965; `bench zoo` seed 36 draw 109, seed 67 draw 117). Behind IETF
//     headers (w advertised), counters not yet told from logs overran
//     the same way (the zoo's header draws without tenants, 14 seeds:
//     545 -> 412 429s).
//     S = w advertised, else the least span measured from its oldest
//     entry (below); at least the floor its 429s set: a 429 of a send
//     made g after our q-th newest send before it (the limiter still held
//     that one: S in send time exceeds g) raises the floor to (g + M) / 2,
//     M = w (else t_max) + the newest round trip (t is at most the span,
//     rounded up; trips out vary by up to a round trip), at most M;
//     without w at every 429, with w while this pace steers. The least of
//     every answer's span is pulled low by the trip out's variation (1.53
//     s for 2 s); a floor that went only to g crept up a 429 at a time.
//     Once the floor is M, a 429 is no short span: the limiter held more
//     than our sends of it (a sliding counter sustains q - 1 per window;
//     others' requests): k += 1, k + l <= q / 2 (k = 0 at first);
//     the last slot, l = 1 (q >= 2) until the log shows it whole: a
//     sliding counter of q sustains q - 1 per window, a log q, and where
//     the grid cannot tell them apart (below) q per S overran counters
//     (52 of the zoo's 97 header draws still with a 429 were counters,
//     14 seeds, no tenants). Spaced q - 1 per S, a log fed to its pace
//     holds q - 1 of ours and shows r = 1 after each request; a
//     counter's weight of the window before is fractional, floored, and
//     shows 0 whenever it exceeds the requests it stands for. Shown
//     whole: max(2, q - 1) answers in a row, each sent a span or more
//     after this pace began, with q - 1 or more of ours within S before
//     its stamp, r = 1, over S or more: l = 0 for good. An answer with
//     r = 0 (r counts after its own request) or a 429 under this pace:
//     l = 1 for good. A log whose trip out varies shows 0 too now and
//     then (an old entry that arrived late) and keeps the slot: 10 per
//     2 s, trips 0.2 s varying by half, 0.95 -> 0.90 of its budget;
//     8 per 3 s, 1 s, 0.95 -> 0.85 (pacer_limiter_test).
//   bucket (refill seen, qr known): the level from the stamp on: r,
//     refilling at qr up to the capacity (>= r_max + 1: each r is counted
//     after its own request took one), less one at each uncounted send in
//     order; send at x if the level there is >= 1, else when the refill
//     brings one; but once a 429 cut an estimated refill (below), not
//     sooner than 1 / qr after the last send where the newest r, less
//     the sends it did not count, holds none (a volley on an estimate
//     that ran ahead is a 429 per send);
//   window, before reset_at: left = r - uncounted; left >= 1: evenly,
//     last send + min((reset_at - x) / left, 1 / qr) (a bucket whose
//     refill is not measured yet: at once, since a full bucket wastes its
//     refill and a t rounded up would spread one token over seconds);
//     else wait for reset_at (at most max_block away) and go same_instant
//     (1 ms) after it: a request at the very instant may still count in
//     the old window (a tie, or clocks of different grain); but where
//     the log is seen sliding (below), w advertised, and our q-th newest
//     send f is within w of the stamp (the log holds q, so exactly our q
//     newest, or: a lone fixed window holds them all, f no earlier than
//     its start), none of those q refused, and f + w past stamp + t - 1 s
//     (t rounded up allows it), only until f + w + 1 ms: the next slot
//     frees there, up to a second before t says (3 per 3 s went 3 per 4
//     s; a fixed window of 1 s, sliding after a 429's second of slack,
//     half its quota). Others spending a fixed window can fit both tests
//     with f before its start: a 429 of a request sent so early ends this
//     for good;
//   window, after reset_at, W not advertised (none, or from resets), or
//     advertised but no answer past a reset has shown the quota back yet,
//     and no answer stamped after reset_at yet: r - uncounted >= 1 are
//     spent (a reset never takes away; an answer slower than its
//     whole-second reset arrives after it); then one request and wait for
//     its answer (a probe a second after the last send at most): a
//     bucket's "reset" is when it is full, a sliding log's when its oldest
//     entry leaves, and either's q spent as a fresh window is a volley of
//     429s;
//   window, after reset_at: the window holding x (reset_at + k W when W is
//     known) allows q (without W at most the most ever seen left, r_max:
//     q may be a bucket's rate; 1 when q is unknown: a probe) less the
//     sends since its start, at the quota rate; none left: the next
//     window's start (without W: a probe a second after the last send,
//     whose answer tells more; from the time asked it would recede);
//   sliding (an answer stamped past a reset showed less than the whole
//     quota back: r + sends since the reset < q - 1; or refills seen and
//     r_max >= q - 2, a log freeing its slots one by one), with w
//     advertised: besides the above, x >= the q-th newest send + w + 1 ms
//     (a reset frees the oldest entries' slots, not the quota; our own q
//     sends then never fill a log's span; a w measured from resets may be
//     a multiple of the true one, so only an advertised w); without w but
//     seen sliding, the least span any answer showed in its stead: stamp
//     + t less our send that the log's oldest entry must be (the log holds
//     q - r, ours the newest of them; others' entries only shorten it),
//     at least the floor its 429s set (above),
//     unless it refills and never showed the whole quota (a bucket: no
//     oldest entry; that span held one of 43/s to 9/s); refilling, the
//     whole quota once seen left and no such span: the longest t seen
//     (fixed windows behind X-RateLimit-* taken for buckets sent q and
//     more within one window);
//   first reset, before any answer stamped past one: not before
//     reset_at + 1.5 W / q (W advertised, else the longest t seen; a fixed
//     window's quota is all back, a counter carrying a full window frees
//     its first slot W / q into the next, r floored); an answer past a
//     reset but within two round trips of it (its request may have
//     arrived before the true end), without the quota back: one request
//     two round trips past the reset, whose answer tells a counter from a
//     fixed window (where the grid below can tell them at all).
// Sliding counter (Cloudflare's estimate e = P (1 - f) + C of the aligned
// window before, P, and the current one, C; Kong's sliding window): r =
// floor(q - e), t until the aligned window ends. Its reset frees nothing
// at once; P frees at P / W per second over the next window.
//   The grid (W advertised, else the longest t seen: t rounded up never
//     exceeds a window and shows it just after a reset): answers whose
//     stamp + t (no slack) lies within a second of the window's tightest
//     are one window; its end E in (latest - 1 s,
//     tightest + a round trip] (t rounded up; margin m = 1 s less the
//     spread of those ends, m <= 1 s). Aligned: the next window's first
//     end a whole number k >= 1 of windows later, within (1 s + round
//     trip) / W < 0.5 of it (below W of about 2 (1 s + round trip) the
//     test cannot tell); a window with one answer (its end one rounded t),
//     or whose answers are too slow for that test, tells nothing either
//     way: the count stands.
//   The phase: each answer's end lies in (stamp + t - 1 s, now + t] (the
//     request arrived between its send and its answer); moved by whole
//     windows onto those before and intersected (empty: this one alone),
//     it places E where that is tighter than the window's own answers (a
//     window's few answers left m near 1 s: a third of a 3 s window's
//     sends left out of what frees in the next, 0.73 of the budget).
//   The send phase: the same in send time, (stamp + t - 1 s, stamp + t]:
//     where each request reaches the limiter a fixed trip after its send,
//     the ends there all hold one point (E less that trip). While no
//     answer ever fell outside it, sends are placed against it (l = 1 ms,
//     m its width): the round trip's doubt is gone. One answer outside
//     (the trip out varies) and the phase above holds for good. Steady:
//     unbroken over three windows and more, W > 2 s (a whole second of
//     rounding against W: below 2 s any phase fits).
//   A counter: aligned at least once (or the send phase steady), and
//     either refills on a steady send phase (a bucket's or a log's reset
//     moves with the sends: its send phase breaks; with the round trip a
//     third of the window the tests below never pass: 11 per 3 s, a second
//     away, was taken for a bucket at q / W, 8 429s), or an answer surely
//     past a reset (stamp >= it + 2 round trips) within the window's first
//     quarter missing at least max(2, P_ours (1 - f) / 2) of q (r plus
//     our sends since; a fixed window that others spend misses what they
//     spent, growing with f; a counter misses what our own last window
//     still weighs), or a gain (more left than the window's first answer
//     less the sends surely counted since, those within two round trips
//     of the stamp left out) well inside two windows (a second and a round
//     trip before the end), which a fixed window never shows, or, seen
//     sliding and never whole after a reset, an answer within the window
//     that left less than a log of our sends alone would (q less our
//     sends within w before the stamp, two round trips either side
//     included), by no more than our sends of the window before weigh in
//     a counter (P (1 - f), plus one of rounding: others' spending is
//     not bounded so); and not
//     refuted: an answer showing more than two less than the model's
//     least (the window's first answer's r, plus what freed since, less
//     every send the server may have counted, less one), twice, and pace
//     is as above for good.
//   Its pace: from the newest stamp, level = r, plus what frees, less one
//     at each send not yet counted, at most q; freeing in window k at
//     P_k / W, P_k our sends surely in window k - 1 (sent in [S + l,
//     S + W - m - l), l a round trip: fewer counted free less, so others'
//     requests or edges only make it safe; those answered 429 left out:
//     the limiter counted none), the lesser of two windows' rates
//     within m before or l after a window's start; send when level
//     >= 1, walking at most two windows on, else a probe a window after
//     the last send (nothing of ours frees there: others spent it, or
//     requests sent together were counted both in r and as uncounted).
//     The sliding log rule above still holds besides.
// Usable advice has r and t, or q with w. It steers while usable
// advice came within the last `stale_after` answers. A 429 of a request
// sent on a bucket's estimated refill alone (no window known; the newest r
// less the sends it did not count held no token for it) says the estimate
// ran ahead: qr' = qr / 1.25, held until a bound passes it (a step above
// a bucket's pair bound overran: the bound stands, qr' no less than it;
// the bound itself overran, the budget shrank or others spend it: its
// marks are dropped), the least such qr is kept as the rate that
// overran (growth stops halfway to it; a floor or bound past it
// forgets it), later 429s of requests sent before this cut are the same
// overrun; up to 3 cuts per `distrust_for`, then as below (a limiter that
// is no bucket fits no estimate). A 429 of a request sent before the
// advice last began to steer (a declared pace's volley before the first
// answer, or while distrusted) says nothing of it. Otherwise, one 429
// while it steers may be a race (another client, a window edge): its
// Retry-After and its own advice hold us. A second within `distrust_for` means
// the headers are wrong (or the limiter counts more than they say): advice is
// ignored for `distrust_for`, doubling on each repeat up to max_block, and the
// pacer's learning takes over.
// Invariants: never schedules a send while the model says nothing is left
// before the advertised reset; a wait lasts at most max_block however
// large t is; the send log holds the sends from the newest stamp on and
// the newest q, and those within w (else t_max) + 1 s before the stamp,
// whose leaving a log's pace counts (every send, up to its cap, until an
// answer with r and t came).

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

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

  /// An answer arrived at `now`, `latency` after its request left.
  void on_answer(time_point now, const rate_limit_advice& a, duration latency);

  /// A request left at `now`.
  void on_sent(time_point now);

  /// A 429 arrived at `now`, `latency` after its request left. True when
  /// it distrusts the advice from now on (the second 429 within
  /// distrust_for while it steers; a request sent on a bucket's estimated
  /// refill alone cuts the estimate instead).
  bool on_throttled(time_point now, duration latency);

  /// A 429 arrived at `now`, `latency` after its request left, steering or
  /// not: a counter frees only what it admitted, so that request is left
  /// out of what frees.
  void on_refused(time_point now, duration latency);

  /// Whether the advice steers sending at `now`.
  bool steering(time_point now) const;

  /// The earliest send not before `t` the advice allows.
  time_point pace(time_point t) const;

  /// Requests/s the advice lets through at `now` (0 while blocked; the
  /// quota rate when nothing else is known).
  double rate(time_point now) const;

  /// The long-run rate advertised (q/W), when known.
  std::optional<double> quota_rate() const;

  /// Whether the answers showed a refill (a token bucket).
  bool refills() const { return refills_; }

  /// How often advice was distrusted (for status and tests).
  std::uint32_t contradictions() const { return contradictions_; }

private:
  /// Sends after `from` (the log holds those after the newest stamp and
  /// the newest q).
  double sends_after(time_point from) const;
  /// A counter's weight from the window before the last reset (set): our
  /// sends in [reset - w, reset), and the share f of a window of w gone
  /// at `stamp` (at most 1); they weigh ours (1 - f).
  struct carried {
    double ours;
    double f;
  };
  carried window_before(time_point stamp, double w) const;
  /// Of those, the ones the server counted: all but the 429'd (as far
  /// as their answers came back).
  double counted_after(time_point from) const;
  /// The best bound on a bucket's refill of the pairs of answers marked.
  double pair_bound() const;
  /// A growth step from x: 1.25 x, but no more than halfway to the least
  /// rate a 429 cut; none within 1% of it.
  std::optional<double> step_up(double x) const;
  std::optional<double> window() const;
  /// A counter's window: w advertised, else the longest t seen (t rounded
  /// up never exceeds a window's length, and shows it just after a reset).
  std::optional<double> grid_window() const;
  /// The quota rate is a token bucket's refill estimated from the answers
  /// (refills seen, no window known).
  bool refill_estimated() const;
  /// Up to the whole quota was seen left at once: a log freeing its slots
  /// one by one looks like a bucket that holds it (servers advertise a
  /// bucket's long-run rate as q, well above its capacity).
  bool holds_whole_quota() const;
  /// pace() once r and t are known, before the sliding rule.
  time_point pace_timed(time_point t) const;
  /// A log's span: w, else the least measured from its oldest entry; at
  /// least the floor its 429s set.
  std::optional<double> log_span() const;
  /// A log freeing its slots one by one paces (the algorithm above).
  bool log_paced() const;
  /// pace_timed() for a log freeing its slots one by one (the algorithm
  /// above), if it applies.
  std::optional<time_point> pace_log(time_point t) const;
  /// A sliding counter: a window's end a whole number of windows after
  /// the last (or a steady send phase), a slide surely past a reset, gains
  /// inside two windows or refills on a steady send phase, and not refuted
  /// (the algorithm above).
  bool counter() const;
  /// The counter's grid at the current window: in send time while the
  /// send phase never broke, else its end and margin from the phase where
  /// that is tighter than the window's own answers.
  struct grid_place {
    time_point end;
    duration margin;
    duration l; // how long after its send a request may arrive
  };
  grid_place grid_place_now() const;
  /// The send phase held for three windows and more on the grid's window:
  /// every answer fits one fixed trip out.
  bool send_grid_steady() const;
  /// pace() for a sliding counter (the model in the algorithm above).
  time_point pace_counter(time_point t) const;
  /// The level from the newest stamp on: r, plus gain(a, b) over each span
  /// between, less one at each send not yet counted, at most `capacity`;
  /// and the last such send's time (the stamp if none).
  std::pair<double, time_point> level_through_sends(
    double capacity,
    const std::function<double(time_point, time_point)>& gain) const;
  /// The q-th newest send (a q-th send more waits for its span), if q is
  /// known and that many were logged.
  std::optional<time_point> qth_newest_send() const;
  /// When a log's next slot frees, before the reset t says (the algorithm
  /// above), if the log holds exactly our q newest sends.
  std::optional<time_point> log_frees() const;
  /// k + l: the slots a log's pace keeps unused (k its 429s', l the last
  /// slot until the log shows it whole).
  double kept_slots() const;
  /// An answer stamped `stamp` showing r, for the last slot's test.
  void watch_last_slot(time_point stamp, double r);
  /// Sends the newest answer's r does not count yet: those after its stamp
  /// (within same_instant of it: either way, so counted as not yet).
  double uncounted() const;

  config cfg_;
  std::uint32_t without_ = 0; // answers since the last usable advice
  bool seen_ = false;         // any usable advice yet
  bool timed_ = false;        // r and t known
  time_point stamp_{};        // of the newest r and t
  double r_ = 0;
  // Answers stamped at stamp_ whose r was taken (the least: it counts
  // them all).
  double stamp_answers_ = 0;
  double reset_s_ = 0; // t of the newest answer
  double t_max_ = 0;   // the longest t seen
  double r_max_ = 0;
  std::optional<double> q_;
  std::optional<double> w_;     // advertised
  std::optional<double> w_est_; // from consecutive resets
  bool refills_ = false;
  bool sliding_ = false;           // a reset passed without the quota back
  bool fresh_seen_ = false;        // ... or with it
  bool passed_reset_ = false;      // an answer stamped past a reset
  std::optional<double> log_span_; // least span from a log's oldest entry
  double span_floor_ = 0;          // a log's span exceeds this (its 429s)
  double slots_kept_ = 0;          // k: slots a log's pace leaves unused
  /// The last slot a log's pace keeps until the log shows it whole.
  struct last_slot {
    std::optional<time_point> paced_from; // first send under a log's pace
    std::optional<time_point> since;      // first answer of the run below
    std::uint32_t run = 0;                // answers in a row showing r = 1 ...
    bool shown = false;                   // ... that showed it: l = 0
    bool doubted = false; // r = 0 or a 429 under this pace: l = 1
  } last_slot_;
  /// Each recent send and our q-th newest send before it (for a 429's gap).
  std::deque<std::pair<time_point, time_point>> qth_at_send_;
  std::optional<time_point> grid_end_; // the tightest stamp + t (no slack)
                                       // of the window answers fall in ...
  time_point grid_latest_{};           // ... the latest such end ...
  double grid_margin_ = 1;         // ... the true end is no earlier than this
                                   // before the tightest (seconds)
  std::uint32_t grid_answers_ = 0; // ... how many answers fell in it
  /// Where windows end, modulo a window w: the intersection of every
  /// answer's (lo, hi], each moved by whole windows onto the others.
  struct phase {
    std::optional<time_point> lo;
    time_point hi{};
    double w = 0;
    bool broken = false; // an answer fell outside the intersection
    time_point since{};  // the first answer since it last started
    /// Kept for `window` (any answer yet).
    bool fits(double window) const { return lo && w == window; }
    /// Narrows by (a, b]; none left: (a, b] alone, and broken.
    void narrow(time_point a, time_point b, double window);
    /// The intersection moved by whole windows nearest to `x`.
    std::pair<time_point, time_point> near(time_point x) const;
  };
  phase phase_;               // the true ends: (stamp + t - 1 s, now + t]
  phase send_phase_;          // in send time: (stamp + t - 1 s, stamp + t]
  std::uint32_t aligned_ = 0; // windows in a row ending a whole number of
                              // windows after the one before
  std::optional<time_point> grid_anchor_; // the window's first answer ...
  double grid_anchor_r_ = 0;              // ... its r
  bool grid_gained_ = false;              // a gain seen in the window
  std::uint32_t gain_windows_ = 0;        // windows with a gain
  std::uint32_t counter_misses_ = 0;      // answers showing less than it leaves
  bool refuted_ = false;                  // ... twice: no counter
  bool slid_ = false; // an answer surely past a reset missed what our own
                      // last window still weighs in a counter
  bool log_refuted_ = false; // an answer left less than a log of ours would
  std::uint32_t refill_evidence_ = 0;
  std::optional<double> refill_rate_;     // measured, where W is unknown
  double pair_refill_bound_ = 0;          // the newest two answers allow
  std::optional<time_point> anchor_;      // its span's start ...
  double anchor_r_ = 0;                   // ... r then ...
  double anchor_sent_ = 0;                // ... and sends up to it
  std::optional<time_point> full_anchor_; // an answer showing it full ...
  double full_sent_ = 0;                  // ... and sends up to it
  std::optional<double> full_floor_;      // R >= this, measured ...
  time_point full_floor_at_{};            // ... at this stamp
  bool quota_accounted_ = false;          // r and our sends within t made up q
  time_point steering_since_{};           // the answer the advice last began to
                                          // steer at
  struct refill_mark {
    time_point stamp;
    double r = 0;       // what it showed left
    double counted = 0; // the server's count of our sends up to it
    double bound = 0;   // the best bound of the pairs ending at it
  };
  std::deque<refill_mark> refill_marks_; // answers bounding the refill
  std::optional<double> held_rate_;      // the refill since a 429 cut or a
                                         // growth step, bound or not
  std::optional<double> sent_at_rate_;  // the bucket rate the last send kept to
  std::deque<time_point> recent_sends_; // the last minute's sends
  std::optional<time_point> grown_at_;  // the last growth step's stamp
  std::optional<double> overran_;       // the least estimate a 429 cut
  std::optional<time_point> last_cut_;  // ... when
  std::uint32_t cuts_ = 0;              // ... and how often within distrust_for
  std::deque<time_point> refill_sends_; // sent on the estimated refill alone
  std::uint64_t total_sent_ = 0;
  std::uint64_t total_refused_ = 0;
  time_point reset_at_{};
  std::optional<time_point> reset_before_; // the reset before reset_at_
  duration slack_{0};
  std::deque<time_point> sends_;    // after stamp_ and the newest q (all until
                                    // r and t came)
  std::deque<time_point> refused_;  // sends answered 429, back to sends_'s
                                    // oldest
  duration latency_{0};             // the newest usable answer's
  std::optional<double> untimed_r_; // r of the newest answer without t
  time_point untimed_stamp_{};      // ... and its stamp
  time_point last_sent_{};
  std::optional<time_point> refused_sent_; // the newest 429's request's
                                           // send time
  std::deque<time_point> early_sends_;     // sent on log_frees() alone
  bool early_refused_ = false;             // ... and one of them refused
  std::optional<time_point> last_strike_;
  std::optional<time_point> distrusted_until_;
  duration distrust_{0};
  std::uint32_t contradictions_ = 0;
};

} // namespace batching
