#pragma once

// The peer flow controllers of docs/anchors.md, restated behind our
// flow_controller interface so the simulator compares them with our pacer
// on equal terms. Every one honours Retry-After through the base class (the
// HTTP client layer under each of them does); what each learns is its own.
// Adaptations forced by the interface or by the Notion setting are marked
// "Adapted:".
//
// fixed_flow (static baseline and the oracle's candidates)
//   A fixed rate r (0 = unpaced) and a fixed in-flight cap n:
//   pace(t) = max(t, last send + 1/r). Learns nothing.
//
// netflix_aimd (AIMDLimit), on every sample:
//   drop (429, 5xx) or rtt > timeout:  L = floor(L * 0.9)
//   else if in_flight * 2 >= L:          L = L + 1
//   L = clamp(L, min, max). Defaults initial 20, max 200, timeout 5 s.
//   Adapted: min 1 instead of 20 (20 in flight is far beyond 3 req/s, as
//   anchors.md notes). A tuned variant starts at L = 1
//   (flow_settings::initial_limit).
//
// netflix_gradient2 (Gradient2Limit inside WindowedLimit), once per window
// (>= 1 s and more than 10 samples, WindowedLimit's defaults; the average
// rtt of the window's non-dropped samples is shortRtt, drops count as
// samples and in-flight only):
//   longRtt = EMA(shortRtt, alpha 2/601), plain average for the first 10;
//   if longRtt / shortRtt > 2: longRtt *= 0.95
//   if max in-flight < L / 2: no change (application-limited)
//   g = clamp(1.5 * longRtt / shortRtt, 0.5, 1); new = L * g + 4
//   L = clamp(0.8 L + 0.2 new, min, 200). Drops are ignored (as upstream).
//   Adapted: min 1 instead of 20; initial 20. Where the window differs
//   from WindowedLimit's: upstream's next window ends 1 s after the
//   closing sample's end (clamp(2 x candidate rtt, 1 s, 1 s)) and skips
//   samples under 100 us; ours starts the next window at the closing
//   completion (the same instant here) and skips none (no simulated or
//   HTTP request answers that fast); a window of drops only waits for an
//   rtt sample (upstream: its candidate rtt is unset, so not ready).
//
// netflix_vegas (VegasLimit), on every sample:
//   every ~U[0.5,1) * 30 * L samples: rtt_noload = rtt (re-probe);
//   if no rtt_noload or rtt < rtt_noload: rtt_noload = rtt, done;
//   queue = ceil(L * (1 - rtt_noload / rtt)); with l = max(1, floor(log10 L)):
//   drop: L - l; in_flight * 2 < L: keep; queue <= l: L + 6l;
//   queue < 3l: L + l; queue > 6l: L - l. L in [1, 1000], initial 20.
//
// envoy_gradient (adaptive concurrency, gradient controller):
//   minRTT phase: L pinned to 3 until 50 samples; minRTT = their p50; the
//   next phase starts 60 s (+ up to 15% jitter) later.
//   Every 100 ms with samples: sampleRTT = p50 of the window;
//   g = clamp(minRTT * 1.25 / sampleRTT, 0.5, 2); L = g L + sqrt(g L),
//   clamped to [1, 1000]. Adapted: requests over the limit wait instead of
//   being answered 503 (a batcher's queue holds them); floor 1
//   (min_concurrency_limit) while minRTT pinning uses 3.
//
// aws_adaptive (botocore adaptive retry mode: CUBIC client token bucket):
//   measured rate: responses counted in 0.5 s buckets, m = 0.8 new + 0.2 m.
//   throttle at t: w = (enabled ? min(m, fill) : m); W_max = w;
//     K = cbrt(W_max (1 - 0.7) / 0.4); t_last = t; new = 0.7 w; enabled.
//   success at t: new = 0.4 (t - t_last - K)^3 + W_max.
//   fill = max(0.5, min(new, 2 m)); bucket capacity max(fill, 1); once
//   enabled a send takes a token and waits for one (deficit / fill).
//   Adapted: in-flight capped by the backend's max_in_flight (the SDK has
//   no concurrency limit of its own).
//
// vector_arc (Vector adaptive request concurrency), per interval of one
// past-RTT mean:
//   L was reached, no back-pressure and current_rtt <= mean: L + 1;
//   else back-pressure or current_rtt >= mean + 2.5 sd: L = max(1,
//     floor(0.9 L));
//   mean/variance: EWMA (alpha 0.4) of each interval's mean rtt, over
//   successful responses only (Vector feeds no back-pressure rtt); an
//   interval of back-pressure only decreases.
//   Initial 1, max 200.
//
// google_sre_throttle (SRE book client-side adaptive throttling):
//   over the trailing 2 minutes, requests (attempts, local rejections
//   included) and accepts (answered other than 429/5xx);
//   p = max(0, (requests - 2 accepts) / (requests + 1)); each send is
//   rejected locally with probability p. Adapted: a rejected send cannot
//   fail the batch's items (nothing may be lost), so it is deferred by
//   100 ms and drawn again, its rejection counted once as one request;
//   in-flight capped by max_in_flight.

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "runtime/policy/flow_control.hpp"
#include "runtime/policy/random.hpp"

namespace batching {

class fixed_flow final : public flow_controller {
public:
  fixed_flow(std::uint32_t max_in_flight, double rate);
  flow_kind kind() const override { return flow_kind::fixed; }
  double rate() const override { return rate_; }

protected:
  time_point pace(time_point t) override;
  void sent(time_point now) override;
  void completed(time_point, const flow_sample&) override {
    // nop
  }

private:
  double rate_;
  std::optional<time_point> last_sent_;
};

/// A concurrency limit L: at most floor(L) (>= 1) requests in flight.
class concurrency_limit : public flow_controller {
public:
  explicit concurrency_limit(double initial)
    : flow_controller(1), limit_(initial) {
    // nop
  }
  std::uint32_t allowed_in_flight() const override;
  double limit() const { return limit_; }

protected:
  double limit_;
};

class netflix_aimd final : public concurrency_limit {
public:
  explicit netflix_aimd(double initial = 20) : concurrency_limit(initial) {
    // nop
  }
  flow_kind kind() const override { return flow_kind::netflix_aimd; }

protected:
  void completed(time_point now, const flow_sample& s) override;
};

class netflix_gradient2 final : public concurrency_limit {
public:
  netflix_gradient2() : concurrency_limit(20) {
    // nop
  }
  flow_kind kind() const override { return flow_kind::netflix_gradient2; }

protected:
  void completed(time_point now, const flow_sample& s) override;

private:
  std::optional<time_point> window_start_;
  double rtt_sum_ = 0;
  std::uint32_t samples_ = 0;
  std::uint32_t rtt_samples_ = 0;
  std::uint32_t max_in_flight_seen_ = 0;
  double long_rtt_ = 0;
  std::uint32_t windows_ = 0;
};

class netflix_vegas final : public concurrency_limit {
public:
  explicit netflix_vegas(std::uint64_t seed);
  flow_kind kind() const override { return flow_kind::netflix_vegas; }

protected:
  void completed(time_point now, const flow_sample& s) override;

private:
  void reset_probe();
  seeded_random rng_;
  double rtt_noload_ = 0;
  std::uint64_t probe_count_ = 0;
  double probe_jitter_ = 0.75;
};

class envoy_gradient final : public concurrency_limit {
public:
  explicit envoy_gradient(std::uint64_t seed);
  flow_kind kind() const override { return flow_kind::envoy_gradient; }
  std::uint32_t allowed_in_flight() const override;

protected:
  void completed(time_point now, const flow_sample& s) override;

private:
  static double p50(std::vector<double>& xs);
  seeded_random rng_;
  bool measuring_ = true;
  std::optional<time_point> next_measure_;
  std::optional<time_point> window_start_;
  std::vector<double> samples_;
  double min_rtt_ = 0;
};

class aws_adaptive final : public flow_controller {
public:
  explicit aws_adaptive(std::uint32_t max_in_flight);
  flow_kind kind() const override { return flow_kind::aws_adaptive; }
  double rate() const override { return enabled_ ? fill_ : 0; }

protected:
  time_point pace(time_point t) override;
  void sent(time_point now) override;
  void completed(time_point now, const flow_sample& s) override;

private:
  void refill(time_point now);
  bool enabled_ = false;
  double fill_ = 0.5;
  double tokens_ = 0;
  std::optional<time_point> refilled_at_;
  double w_max_ = 0;
  double k_ = 0;
  std::optional<time_point> last_throttle_;
  std::optional<time_point> start_;
  // Measured response rate.
  std::optional<time_point> bucket_start_;
  std::uint32_t bucket_count_ = 0;
  double measured_ = 0;
};

class vector_arc final : public concurrency_limit {
public:
  vector_arc() : concurrency_limit(1) {
    // nop
  }
  flow_kind kind() const override { return flow_kind::vector_arc; }

protected:
  void completed(time_point now, const flow_sample& s) override;

private:
  std::optional<time_point> interval_start_;
  double rtt_sum_ = 0;
  std::uint32_t samples_ = 0;
  bool backpressure_ = false;
  bool reached_limit_ = false;
  std::optional<double> mean_;
  double variance_ = 0;
};

class google_sre_throttle final : public flow_controller {
public:
  google_sre_throttle(std::uint32_t max_in_flight, std::uint64_t seed);
  flow_kind kind() const override { return flow_kind::google_sre_throttle; }

protected:
  time_point pace(time_point t) override;
  void sent(time_point now) override;
  void completed(time_point now, const flow_sample& s) override;

private:
  void prune(time_point now);
  seeded_random rng_;
  std::deque<time_point> requests_;
  std::deque<time_point> accepts_;
  std::optional<time_point> deferred_until_;
  bool counted_ = false; // the pending request's rejection is counted
};

} // namespace batching
