#pragma once

// The simulated backend of a scenario: a rate_limited_api or a
// database_api with the scenario's scheduled changes applied at their
// times, and the bookkeeping that checks the runtime (operations accepted
// twice, requests over the caps). It also knows the hidden truth the
// metrics need (capacity at a given time); no strategy ever sees it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "runtime/policy/random.hpp"
#include "sim/database_api.hpp"
#include "sim/rate_limited_api.hpp"
#include "sim/scenario.hpp"

namespace batching::sim {

class simulated_backend {
public:
  simulated_backend(const backend_spec& spec, std::uint64_t seed,
                    time_point start);

  /// Serves one request arriving at `now` (due changes applied first).
  delayed_answer serve(const batch& b, time_point now);

  /// The parameters in force `at_s` seconds into the run.
  backend_params params_at(double at_s) const;

  /// Items/s the backend can accept `at_s` into the run with payloads of
  /// `mean_payload_bytes` (0 during an outage).
  double capacity(double at_s, double mean_payload_bytes) const;

  std::uint64_t requests() const { return requests_; }
  std::uint64_t throttled() const { return throttled_; }
  std::uint64_t accepted_items() const { return accepted_items_; }
  /// Operations the backend accepted more than once.
  std::uint64_t duplicated() const { return duplicated_; }
  /// Whether the backend accepted the operation (its own record of ids;
  /// read after the run).
  bool has_accepted(std::uint64_t id) const { return accepted_.count(id) != 0; }
  /// Accepted requests whose answer came after the timeout or never, and
  /// the operations they held (each may reach the backend again).
  std::uint64_t late_answers() const { return late_answers_; }
  std::uint64_t late_items() const { return late_items_; }
  /// Requests over the item or byte cap.
  std::uint64_t oversized() const { return oversized_; }

private:
  void apply_due_changes(time_point now);

  backend_spec spec_;
  time_point start_;
  std::size_t next_change_ = 0;
  std::unique_ptr<rate_limited_api> api_;
  std::unique_ptr<database_api> db_;
  std::unordered_set<std::uint64_t> accepted_;
  // Read by the runner while the executor serves (real time): atomic.
  std::atomic<std::uint64_t> requests_ = 0;
  std::atomic<std::uint64_t> throttled_ = 0;
  std::atomic<std::uint64_t> accepted_items_ = 0;
  std::uint64_t duplicated_ = 0;
  std::uint64_t oversized_ = 0;
  seeded_random late_rng_;
  std::uint64_t late_answers_ = 0;
  std::uint64_t late_items_ = 0;
};

} // namespace batching::sim
