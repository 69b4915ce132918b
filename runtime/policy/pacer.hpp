#pragma once

// Pacer: our flow controller (flow_control.hpp). One request budget per
// backend, shared by every operation type that uses the backend (its gate
// actor owns the only instance, so the budget cannot be double-counted).
//
// Algorithm. State: rate r (requests/s; 0 = unpaced), ceiling c (the rate
// at which the backend last throttled; unknown at first), next slot s,
// blocked-until b (from Retry-After, kept by flow_controller), in-flight f.
//   earliest(now) = none while f >= max_in_flight, else
//                   max(now, b, s if r > 0)
//   on_sent(now):  f += 1; s = max(now, s) + 1/r            (pacing)
//   throttled (429/503 with Retry-After ra), at most once per window of
//   max(1 s, 1/r) (the 429s of one overrun are one signal):
//                  c = r_sent (the rate that overran the budget, or the
//                      measured send rate when unpaced);
//                  r = max(min_rate, decrease * c);
//   and on every 429: b = max(b, now + ra);
//                  s = max(s, b, last send + 1/r)
//                  -> no request before b, ever (Retry-After honoured)
//   ok:            counts towards an epoch of max(min_epoch, r) successes
//                  sent while the pacer was the bottleneck (demand waited
//                  for a slot); at the end of an epoch:
//                    c unknown:        r = 2r         (slow start)
//                    r < recover * c:  r = min(recover * c, r * 1.25)
//                    otherwise:        r = r * (1 + probe)   (rare probe)
// Inputs: send and completion events with `now`; statuses; Retry-After.
// Invariants: consecutive sends are at least 1/r apart (r at the time of
// the later send); no send before b; f <= max_in_flight.

#include <cstdint>
#include <optional>

#include "runtime/policy/flow_control.hpp"

namespace batching {

class pacer final : public flow_controller {
public:
  struct config {
    std::uint32_t max_in_flight = 4;
    double initial_rate = 3;      // requests/s; 0 = unpaced
    double min_rate = 0.05;       // never slower than one request per 20 s
    double decrease = 0.85;       // r after a 429, as a share of the ceiling
    double recover = 0.95;        // climb quickly back to this share of c
    double probe = 0.02;          // then probe upward this much per epoch
    std::uint32_t min_epoch = 10; // successes per adaptation epoch
  };

  pacer();
  explicit pacer(config cfg);

  flow_kind kind() const override { return flow_kind::pacer; }
  double rate() const override { return rate_; }
  std::optional<double> ceiling() const override { return ceiling_; }

protected:
  time_point pace(time_point t) override;
  void sent(time_point now) override;
  void completed(time_point now, const flow_sample& s) override;

private:
  config cfg_;
  double rate_;
  std::optional<double> ceiling_;
  std::optional<time_point> last_decrease_;
  time_point next_slot_{};
  time_point last_sent_{};
  bool slot_bound_ = false; // the last earliest() waited for the slot
  std::uint32_t epoch_successes_ = 0;
  // Send-rate measurement for throttles while unpaced.
  std::optional<time_point> window_start_;
  std::uint32_t window_sends_ = 0;
  double measured_rate_ = 0;
};

} // namespace batching
