#include "runtime/policy/flow_control.hpp"

#include <algorithm>

#include "runtime/policy/flow_peers.hpp"
#include "runtime/policy/pacer.hpp"

namespace batching {

std::optional<time_point> flow_controller::earliest(time_point now) {
  if (in_flight_ >= allowed_in_flight()) {
    held_in_flight();
    return std::nullopt;
  }
  return pace(std::max(now, blocked_until_));
}

void flow_controller::on_sent(time_point now) {
  ++in_flight_;
  sent(now);
}

void flow_controller::on_completed(time_point now, batch_status status,
                                   duration retry_after, duration latency,
                                   const rate_limit_advice& advice) {
  flow_sample s{status, retry_after, latency, in_flight_, advice};
  on_abandoned();
  if (status == batch_status::throttled)
    blocked_until_ = std::max(blocked_until_, now + retry_after);
  completed(now, s);
}

void flow_controller::on_abandoned() {
  if (in_flight_ > 0)
    --in_flight_;
}

namespace {

std::unique_ptr<flow_controller> make_flow_kind(const flow_settings& s) {
  switch (s.kind) {
    case flow_kind::fixed:
      return std::make_unique<fixed_flow>(s.max_in_flight, s.initial_rate);
    case flow_kind::netflix_aimd:
      return std::make_unique<netflix_aimd>(
        s.initial_limit > 0 ? s.initial_limit : 20);
    case flow_kind::netflix_gradient2:
      return std::make_unique<netflix_gradient2>();
    case flow_kind::netflix_vegas:
      return std::make_unique<netflix_vegas>(s.seed);
    case flow_kind::envoy_gradient:
      return std::make_unique<envoy_gradient>(s.seed);
    case flow_kind::aws_adaptive:
      return std::make_unique<aws_adaptive>(s.max_in_flight);
    case flow_kind::vector_arc: return std::make_unique<vector_arc>();
    case flow_kind::google_sre_throttle:
      return std::make_unique<google_sre_throttle>(s.max_in_flight, s.seed);
    default: {
      pacer::config cfg;
      cfg.max_in_flight = s.max_in_flight;
      cfg.initial_rate = s.initial_rate;
      cfg.resumed = s.resumed;
      cfg.initial_ceiling = s.initial_ceiling;
      cfg.rough_ceiling = s.rough_ceiling;
      return std::make_unique<pacer>(cfg);
    }
  }
}

} // namespace

std::unique_ptr<flow_controller> make_flow_controller(const flow_settings& s) {
  auto c = make_flow_kind(s);
  c->hold_until(s.blocked_until);
  return c;
}

} // namespace batching
