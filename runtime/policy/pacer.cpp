#include "runtime/policy/pacer.hpp"

#include <algorithm>

namespace batching {

pacer::pacer() : pacer(config{}) {
  // nop
}

pacer::pacer(config cfg)
  : flow_controller(cfg.max_in_flight), cfg_(cfg), rate_(cfg.initial_rate) {
  // nop
}

time_point pacer::pace(time_point t) {
  slot_bound_ = rate_ > 0 && next_slot_ > t;
  return rate_ > 0 ? std::max(t, next_slot_) : t;
}

void pacer::sent(time_point now) {
  last_sent_ = now;
  if (rate_ > 0)
    next_slot_ = std::max(now, next_slot_) + from_seconds(1.0 / rate_);
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

void pacer::completed(time_point now, const flow_sample& s) {
  if (s.status == batch_status::throttled) {
    // One decrease per window (max(1 s, 1/r)): the 429s of one overrun
    // are one signal, not many.
    auto window = from_seconds(std::max(1.0, rate_ > 0 ? 1.0 / rate_ : 0.0));
    if (!last_decrease_ || now - *last_decrease_ >= window) {
      ceiling_ = rate_ > 0 ? rate_ : std::max(measured_rate_, 1.0);
      rate_ = std::max(cfg_.min_rate, cfg_.decrease * *ceiling_);
      last_decrease_ = now;
    }
    // Slow down at once: the next slot follows the new, lower rate.
    next_slot_ = std::max(
      {next_slot_, blocked_until(), last_sent_ + from_seconds(1.0 / rate_)});
    epoch_successes_ = 0;
    return;
  }
  if (s.status != batch_status::ok || rate_ <= 0 || !slot_bound_)
    return;
  auto epoch = std::max<double>(cfg_.min_epoch, rate_);
  if (++epoch_successes_ < epoch)
    return;
  epoch_successes_ = 0;
  if (!ceiling_)
    rate_ *= 2;
  else if (rate_ < cfg_.recover * *ceiling_)
    rate_ = std::min(cfg_.recover * *ceiling_, rate_ * 1.25);
  else
    rate_ *= 1 + cfg_.probe;
}

} // namespace batching
