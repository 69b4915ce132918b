#include "runtime/policy/flow_peers.hpp"

#include <algorithm>
#include <cmath>

namespace batching {

namespace {

double ms(duration d) { return to_seconds(d) * 1000; }

bool dropped(const flow_sample& s) { return is_backpressure(s.status); }

} // namespace

// -- fixed --------------------------------------------------------------------

fixed_flow::fixed_flow(std::uint32_t max_in_flight, double rate)
  : flow_controller(max_in_flight), rate_(rate) {
  // nop
}

time_point fixed_flow::pace(time_point t) {
  if (rate_ > 0 && last_sent_)
    t = std::max(t, *last_sent_ + from_seconds(1.0 / rate_));
  return t;
}

void fixed_flow::sent(time_point now) { last_sent_ = now; }

// -- concurrency limits -------------------------------------------------------

std::uint32_t concurrency_limit::allowed_in_flight() const {
  return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(limit_));
}

void netflix_aimd::completed(time_point, const flow_sample& s) {
  constexpr double min_limit = 1, max_limit = 200, backoff = 0.9;
  if (dropped(s) || s.latency > std::chrono::seconds{5})
    limit_ = std::floor(limit_ * backoff);
  else if (s.in_flight * 2 >= limit_)
    limit_ += 1;
  limit_ = std::clamp(limit_, min_limit, max_limit);
}

void netflix_gradient2::completed(time_point now, const flow_sample& s) {
  // WindowedLimit: aggregate for >= 1 s and more than 10 samples; a
  // dropped sample counts (and its in-flight) but adds no RTT.
  if (!window_start_)
    window_start_ = now;
  if (!dropped(s)) {
    rtt_sum_ += ms(s.latency);
    ++rtt_samples_;
  }
  ++samples_;
  max_in_flight_seen_ = std::max(max_in_flight_seen_, s.in_flight);
  if (now - *window_start_ < std::chrono::seconds{1} || samples_ <= 10
      || rtt_samples_ == 0)
    return;
  double short_rtt = std::max(rtt_sum_ / rtt_samples_, 1e-3);
  auto in_flight = max_in_flight_seen_;
  window_start_ = now;
  rtt_sum_ = 0;
  samples_ = 0;
  rtt_samples_ = 0;
  max_in_flight_seen_ = 0;
  // Gradient2Limit.
  ++windows_;
  if (windows_ <= 10)
    long_rtt_ += (short_rtt - long_rtt_) / windows_; // warm-up average
  else
    long_rtt_ += (short_rtt - long_rtt_) * (2.0 / 601);
  if (long_rtt_ / short_rtt > 2)
    long_rtt_ *= 0.95;
  if (in_flight < limit_ / 2)
    return;
  double gradient = std::clamp(1.5 * long_rtt_ / short_rtt, 0.5, 1.0);
  double next = limit_ * gradient + 4;
  next = limit_ * 0.8 + next * 0.2;
  limit_ = std::clamp(next, 1.0, 200.0);
}

netflix_vegas::netflix_vegas(std::uint64_t seed)
  : concurrency_limit(20), rng_(seed) {
  reset_probe();
}

void netflix_vegas::reset_probe() {
  probe_count_ = 0;
  probe_jitter_ = rng_.uniform(0.5, 1.0);
}

void netflix_vegas::completed(time_point, const flow_sample& s) {
  double rtt = std::max(ms(s.latency), 1e-3);
  if (++probe_count_ >= probe_jitter_ * 30 * limit_) {
    reset_probe();
    rtt_noload_ = rtt;
    return;
  }
  if (rtt_noload_ == 0 || rtt < rtt_noload_) {
    rtt_noload_ = rtt;
    return;
  }
  double l = std::max(1.0, std::floor(std::log10(limit_)));
  double queue = std::ceil(limit_ * (1 - rtt_noload_ / rtt));
  double next;
  if (dropped(s))
    next = limit_ - l;
  else if (s.in_flight * 2 < limit_)
    return;
  else if (queue <= l)
    next = limit_ + 6 * l;
  else if (queue < 3 * l)
    next = limit_ + l;
  else if (queue > 6 * l)
    next = limit_ - l;
  else
    return;
  limit_ = std::clamp(next, 1.0, 1000.0); // smoothing 1.0
}

envoy_gradient::envoy_gradient(std::uint64_t seed)
  : concurrency_limit(3), rng_(seed) {
  // nop
}

std::uint32_t envoy_gradient::allowed_in_flight() const {
  return measuring_ ? 3 : concurrency_limit::allowed_in_flight();
}

double envoy_gradient::p50(std::vector<double>& xs) {
  auto mid = xs.begin() + static_cast<std::ptrdiff_t>(xs.size() / 2);
  std::nth_element(xs.begin(), mid, xs.end());
  return *mid;
}

void envoy_gradient::completed(time_point now, const flow_sample& s) {
  using namespace std::chrono_literals;
  if (!measuring_ && next_measure_ && now >= *next_measure_) {
    measuring_ = true; // samples of requests started earlier are mixed in;
    samples_.clear();  // a 50-sample window dilutes them
  }
  samples_.push_back(std::max(ms(s.latency), 1e-3));
  if (measuring_) {
    if (samples_.size() < 50)
      return;
    min_rtt_ = p50(samples_);
    samples_.clear();
    measuring_ = false;
    window_start_ = now;
    next_measure_ = now + 60s + from_seconds(rng_.uniform(0, 0.15) * 60);
    return;
  }
  if (!window_start_)
    window_start_ = now;
  if (now - *window_start_ < 100ms)
    return;
  double sample_rtt = p50(samples_);
  samples_.clear();
  window_start_ = now;
  double g = std::clamp(min_rtt_ * 1.25 / sample_rtt, 0.5, 2.0);
  limit_ = std::clamp(g * limit_ + std::sqrt(g * limit_), 1.0, 1000.0);
}

// -- rate based ---------------------------------------------------------------

aws_adaptive::aws_adaptive(std::uint32_t max_in_flight)
  : flow_controller(max_in_flight) {
  // nop
}

void aws_adaptive::refill(time_point now) {
  if (refilled_at_)
    tokens_ = std::min(std::max(fill_, 1.0),
                       tokens_ + fill_ * to_seconds(now - *refilled_at_));
  refilled_at_ = now;
}

time_point aws_adaptive::pace(time_point t) {
  if (!enabled_)
    return t;
  refill(std::max(t, refilled_at_.value_or(t)));
  if (tokens_ >= 1)
    return t;
  return std::max(t, *refilled_at_) + from_seconds((1 - tokens_) / fill_);
}

void aws_adaptive::sent(time_point now) {
  if (!start_)
    start_ = now;
  if (!enabled_)
    return;
  refill(now);
  tokens_ -= 1;
}

void aws_adaptive::completed(time_point now, const flow_sample& s) {
  constexpr double c = 0.4, beta = 0.7;
  if (!start_)
    start_ = now;
  // RateClocker: responses per 0.5 s bucket, smoothed.
  if (!bucket_start_)
    bucket_start_ = now;
  ++bucket_count_;
  auto elapsed = to_seconds(now - *bucket_start_);
  if (elapsed >= 0.5) {
    measured_ = 0.8 * (bucket_count_ / elapsed) + 0.2 * measured_;
    bucket_start_ = now;
    bucket_count_ = 0;
  }
  double next;
  if (s.status == batch_status::throttled) {
    double w = enabled_ ? std::min(measured_, fill_) : measured_;
    w_max_ = w;
    k_ = std::cbrt(w_max_ * (1 - beta) / c);
    last_throttle_ = now;
    next = w * beta;
    if (!enabled_) {
      enabled_ = true;
      tokens_ = 0;
      refilled_at_ = now;
    }
  } else {
    auto t = to_seconds(now - last_throttle_.value_or(*start_));
    next = c * std::pow(t - k_, 3) + w_max_;
  }
  refill(now);
  fill_ = std::max(0.5, std::min(next, 2 * measured_));
  tokens_ = std::min(tokens_, std::max(fill_, 1.0));
}

void vector_arc::completed(time_point now, const flow_sample& s) {
  if (!interval_start_)
    interval_start_ = now;
  // Only successful responses' RTT feeds the averages (as Vector: a
  // back-pressure answer's time says nothing about the service's).
  if (!dropped(s)) {
    rtt_sum_ += ms(s.latency);
    ++samples_;
  }
  backpressure_ = backpressure_ || dropped(s);
  reached_limit_ = reached_limit_ || s.in_flight >= allowed_in_flight();
  double interval_ms = mean_.value_or(ms(s.latency));
  if (ms(now - *interval_start_) < interval_ms)
    return;
  if (samples_ == 0) { // only back-pressure this interval
    limit_ = std::max(1.0, std::floor(limit_ * 0.9));
    interval_start_ = now;
    backpressure_ = false;
    reached_limit_ = false;
    return;
  }
  double current = rtt_sum_ / samples_;
  if (mean_) {
    double sd = std::sqrt(variance_);
    // Increase first, as upstream: with a steady RTT (sd 0) both hold.
    if (reached_limit_ && !backpressure_ && current <= *mean_)
      limit_ = std::min(200.0, limit_ + 1);
    else if (backpressure_ || current >= *mean_ + 2.5 * sd)
      limit_ = std::max(1.0, std::floor(limit_ * 0.9));
    double delta = current - *mean_;
    *mean_ += 0.4 * delta;
    variance_ = 0.6 * (variance_ + 0.4 * delta * delta);
  } else {
    mean_ = current;
    if (backpressure_)
      limit_ = std::max(1.0, std::floor(limit_ * 0.9));
  }
  interval_start_ = now;
  rtt_sum_ = 0;
  samples_ = 0;
  backpressure_ = false;
  reached_limit_ = false;
}

google_sre_throttle::google_sre_throttle(std::uint32_t max_in_flight,
                                         std::uint64_t seed)
  : flow_controller(max_in_flight), rng_(seed) {
  // nop
}

void google_sre_throttle::prune(time_point now) {
  auto horizon = now - std::chrono::minutes{2};
  while (!requests_.empty() && requests_.front() < horizon)
    requests_.pop_front();
  while (!accepts_.empty() && accepts_.front() < horizon)
    accepts_.pop_front();
}

time_point google_sre_throttle::pace(time_point t) {
  if (deferred_until_ && t < *deferred_until_)
    return *deferred_until_;
  deferred_until_.reset();
  prune(t);
  double requests = static_cast<double>(requests_.size());
  double accepts = static_cast<double>(accepts_.size());
  double p = std::max(0.0, (requests - 2 * accepts) / (requests + 1));
  if (p > 0 && rng_.uniform() < p) {
    // A local rejection is still a request, counted once however often
    // the deferred request is drawn again.
    if (!counted_)
      requests_.push_back(t);
    counted_ = true;
    deferred_until_ = t + std::chrono::milliseconds{100};
    return *deferred_until_;
  }
  return t;
}

void google_sre_throttle::sent(time_point now) {
  if (!counted_)
    requests_.push_back(now);
  counted_ = false;
}

void google_sre_throttle::completed(time_point now, const flow_sample& s) {
  if (!dropped(s))
    accepts_.push_back(now);
  prune(now);
}

} // namespace batching
