#pragma once

// Flow control: when the next request to one backend may leave. One
// interface for our pacer, the static baselines and the peer algorithms of
// docs/anchors (flow_peers.hpp), so the gate, the simulator and A/B tests
// swap them without touching anything else.
//
// Algorithm (the part every controller shares).
//   earliest(now) = none while in_flight >= allowed_in_flight(),
//                   else pace(max(now, b))
//   on 429 with Retry-After ra: b = max(b, now + ra)
// Honouring Retry-After belongs to the HTTP client layer (the Notion SDK
// and botocore both do it), so every controller gets it; what differs is
// the in-flight limit (allowed_in_flight) and the spacing (pace) each
// controller learns from its samples.
// Inputs: send and completion events with `now`; each completion's status,
// Retry-After and latency, and the in-flight count including it.
// Invariants: in_flight <= allowed_in_flight at every send; no send before
// b.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>

#include "runtime/policy/types.hpp"

namespace batching {

/// What one completed request tells a controller.
struct flow_sample {
  batch_status status = batch_status::ok;
  duration retry_after{0};
  duration latency{0};
  std::uint32_t in_flight = 0; // in flight when it ended, itself included
  rate_limit_advice advice;    // what its rate-limit headers said
};

/// Whether a sample is back-pressure (429, or a retryable 5xx/timeout):
/// the "dropped" of the concurrency-limit literature.
inline bool is_backpressure(batch_status s) {
  return s == batch_status::throttled || s == batch_status::retryable_failure;
}

class flow_controller {
public:
  explicit flow_controller(std::uint32_t max_in_flight)
    : max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight) {
    // nop
  }

  virtual ~flow_controller() = default;

  virtual flow_kind kind() const = 0;

  /// When the next request may leave, or nothing while in-flight is full.
  std::optional<time_point> earliest(time_point now);

  /// A request left now.
  void on_sent(time_point now);

  /// A request ended; `retry_after` counts only when throttled.
  void on_completed(time_point now, batch_status status, duration retry_after,
                    duration latency = duration{0},
                    const rate_limit_advice& advice = {});

  /// A granted request was not sent after all.
  void on_abandoned();

  std::uint32_t in_flight() const { return in_flight_; }
  time_point blocked_until() const { return blocked_until_; }
  /// A live change replaced `old` by this one: the requests it has in
  /// flight and its Retry-After hold here too.
  void carry_over(const flow_controller& old) {
    in_flight_ = old.in_flight_;
    blocked_until_ = std::max(blocked_until_, old.blocked_until_);
  }

  /// No request before `t`: a Retry-After told to a predecessor (a
  /// restarted gate's) holds for its successor too.
  void hold_until(time_point t) {
    blocked_until_ = std::max(blocked_until_, t);
  }

  /// Requests/s the controller allows; 0 when it does not pace by rate.
  virtual double rate() const { return 0; }

  /// The rate at which the backend last throttled, when known.
  virtual std::optional<double> ceiling() const { return std::nullopt; }

  /// Whether that ceiling is a first measure nobody confirmed yet (a
  /// successor keeps probing it rather than trusting it).
  virtual bool ceiling_rough() const { return false; }

  /// Requests it lets be in flight at once.
  virtual std::uint32_t allowed_in_flight() const { return max_in_flight_; }

protected:
  /// The earliest send time not before `t` (t already honours b).
  virtual time_point pace(time_point t) { return t; }

  virtual void sent(time_point) {
    // nop
  }

  /// Asked for a send while every allowed request was out.
  virtual void held_in_flight() {
    // nop
  }

  virtual void completed(time_point now, const flow_sample& s) = 0;

  std::uint32_t max_in_flight_;

private:
  std::uint32_t in_flight_ = 0;
  time_point blocked_until_{};
};

/// What make_flow_controller needs: the kind, the backend's in-flight cap
/// and starting rate, and a seed for controllers that draw random numbers.
struct flow_settings {
  flow_kind kind = flow_kind::pacer;
  std::uint32_t max_in_flight = 4;
  double initial_rate = 3; // pacer: start; fixed: the rate (0 = unpaced)
  std::uint64_t seed = 1;
  /// netflix_aimd's starting limit; 0 keeps the library's (20).
  double initial_limit = 0;
  /// pacer: resuming a restarted gate's predecessor, whose rate is
  /// initial_rate and whose ceiling is initial_ceiling (0: none measured).
  bool resumed = false;
  double initial_ceiling = 0;
  bool rough_ceiling = false; // initial_ceiling unconfirmed
  /// Any controller: the predecessor's Retry-After, still honoured.
  time_point blocked_until{};

  bool operator==(const flow_settings&) const = default;
};

std::unique_ptr<flow_controller> make_flow_controller(const flow_settings& s);

} // namespace batching
