#include "runtime/policy/sample_window.hpp"

#include <algorithm>

namespace batching {

namespace {

/// Answered requests a window needs at least (fewer make its throughput
/// mostly noise).
constexpr std::uint64_t min_window_requests = 4;

/// How long a 429 marks the backend as having a request budget.
constexpr double budget_memory_s = 600;

} // namespace

void sample_window::sent(double size, double in_flight) {
  ++w_.sends;
  w_.size_sum += size;
  w_.in_flight_sum += in_flight;
}

void sample_window::answered(bool throttled, bool failed, time_point now) {
  ++w_.requests;
  if (throttled) {
    ++w_.throttled;
    last_throttle_ = now;
  }
  if (failed)
    ++w_.failed_requests;
}

void sample_window::succeeded(std::uint64_t n, double latency_ms) {
  w_.succeeded += n;
  w_.latency_sum_ms += static_cast<double>(n) * latency_ms;
}

std::optional<training_sample> sample_window::close(time_point now,
                                                    const at_close& in) {
  if (!open_) {
    w_ = counts{};
    w_.start = now;
    open_ = true;
    return std::nullopt;
  }
  double span = to_seconds(now - w_.start);
  if (span < to_seconds(cfg_.period) || w_.requests < min_window_requests
      || w_.sends == 0 || w_.succeeded == 0)
    return std::nullopt;
  auto requests = static_cast<double>(w_.requests);
  arrival_rate_ = static_cast<double>(w_.enqueued) / span;
  training_sample s;
  s.op_type = cfg_.op_type;
  auto& f = s.features;
  f.batch_size = w_.size_sum / static_cast<double>(w_.sends);
  f.in_flight_batches = w_.in_flight_sum / static_cast<double>(w_.sends);
  f.pending_operations = in.queue_depth;
  f.arrival_rate = arrival_rate_;
  f.recent_latency_ms = w_.start_latency_ms;
  f.throttle_rate = static_cast<double>(w_.throttled) / requests;
  f.error_rate = static_cast<double>(w_.failed_requests) / requests;
  f.seconds_since_throttle = seconds_since_throttle(now);
  f.cpu_percent = in.cpu_percent;
  f.memory_percent = in.memory_percent;
  auto succeeded = static_cast<double>(w_.succeeded);
  s.throughput = succeeded / span;
  s.item_latency_ms = w_.latency_sum_ms / succeeded;
  s.success_rate = succeeded / static_cast<double>(w_.succeeded + w_.failed);
  w_ = counts{};
  w_.start = now;
  w_.start_latency_ms = in.item_latency_ms;
  return s;
}

double sample_window::seconds_since_throttle(time_point now) const {
  return last_throttle_
           ? std::min(to_seconds(now - *last_throttle_), budget_memory_s)
           : budget_memory_s;
}

bool sample_window::budget_in_play(time_point now) const {
  return cfg_.documented_budget
         || seconds_since_throttle(now) < budget_memory_s;
}

optimization_target sample_window::target(time_point now,
                                          double target_latency_ms) const {
  return {arrival_rate_, target_latency_ms,
          budget_in_play(now) ? target_priority::throughput : cfg_.priority,
          cfg_.min_confidence};
}

std::optional<std::uint32_t> sample_window::accept(const prediction& p,
                                                   time_point now) {
  advised_ = p.confidence >= cfg_.min_confidence && p.batch_size > 0;
  if (!advised_)
    return std::nullopt;
  advice_until_ = now + 3 * cfg_.period;
  return p.batch_size;
}

bool sample_window::advice_expired(time_point now) {
  if (!advised_ || now <= advice_until_)
    return false;
  advised_ = false;
  return true;
}

} // namespace batching
