#pragma once

// A workload stream as a pure, seeded arrival process: when the next job of
// an operation type arrives, its priority and its operations' payloads. The
// load generator actor plays it (virtual time in the simulator, real time in
// load tests); it never reads a clock.
//
// Algorithm. One stream has an item rate r(t): `rate` until the first phase,
// then each phase's rate from its at_s (ramp: linear from the previous
// point to each phase's rate at its at_s). A stream played by u users gives
// each user r(t)/u. Jobs carry job_size operations, so jobs arrive at
// j(t) = r(t) / (u * job_size):
//   constant: gaps of 1/j(t);
//   poisson:  exponential gaps with mean 1/j(t) (drawn again at a phase
//             boundary: memoryless, so exact for piecewise-constant rates);
//   bursts:   poisson at j(t), plus every burst_every_s a burst of
//             burst_items / u items at once;
//   ramp:     poisson at j(t) sampled by thinning.
// Priorities are drawn by weight; payloads uniformly in [min, max] bytes.
// Operation ids are id_base + a counter (unique per stream and user).
// Invariants: arrivals are returned in time order; the same seed gives the
// same arrivals.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/policy/enum_names.hpp"
#include "runtime/policy/random.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

enum class arrival_kind : std::uint8_t { constant, poisson, bursts, ramp };

template <>
struct enum_names<arrival_kind> {
  static constexpr std::array<std::string_view, 4> names{"constant", "poisson",
                                                         "bursts", "ramp"};
};

struct workload_phase {
  double at_s = 0;
  double rate = 0; // items/s from at_s on
};

struct payload_range {
  double min_bytes = 200;
  double max_bytes = 200;
};

struct priority_mix {
  double critical = 0;
  double high = 0;
  double normal = 1;
  double low = 0;
};

struct workload_plan {
  std::string op_type = "write";
  arrival_kind arrival = arrival_kind::poisson;
  double rate = 50; // items/s at the start
  double burst_every_s = 10;
  double burst_items = 0;
  std::vector<workload_phase> phases;
  payload_range payload_bytes;
  priority_mix priorities;
  std::uint32_t job_size = 10; // operations per submitted job
  std::uint32_t users = 1;     // load generators sharing the rate
};

/// One job as it arrives.
struct arrival {
  double at_s = 0; // seconds from the start
  priority prio = priority::normal;
  std::vector<operation> operations;
};

class arrival_process {
public:
  arrival_process(workload_plan plan, std::uint32_t user, std::uint64_t seed,
                  std::uint64_t id_base);

  /// The stream's item rate at t seconds (all users together).
  double rate_at(double t) const;

  /// The next arrival after the previous one; at_s is infinite when the
  /// stream has no more arrivals.
  arrival next();

  const workload_plan& plan() const { return plan_; }

private:
  double next_boundary(double t) const;
  double max_rate_after(double t) const;
  std::vector<operation> make_ops(std::size_t n);
  priority draw_priority();

  workload_plan plan_;
  seeded_random rng_;
  std::uint64_t next_id_;
  double t_ = 0;               // time of the last job arrival
  double next_burst_ = 0;      // time of the next burst
  std::size_t burst_left_ = 0; // items of the current burst still to emit
};

} // namespace batching
