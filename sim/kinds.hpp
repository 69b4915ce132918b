#pragma once

// The simulator's named enums (scenario keys and backend models).

#include <array>
#include <cstdint>
#include <string_view>

#include "runtime/policy/enum_names.hpp"

namespace batching::sim {

enum class backend_kind : std::uint8_t { rate_limited_api, database };

/// How a simulated API counts its budget (sim/limiter.hpp: the zoo).
enum class budget_kind : std::uint8_t {
  token_bucket,     // rate r, capacity `burst`
  fixed_window,     // N per aligned window of W s
  sliding_log,      // N accepted in any W s (a log of accepted requests)
  sliding_counter,  // N per W, estimated from two fixed windows (weighted)
  counting_log,     // N requests of any outcome in any W s: rejections count
  nginx_delay,      // nginx limit_req: rate r, burst b queued (delayed)
  concurrency,      // at most `concurrency` in flight, more answered 429
  unlimited,        // never rejects (a queueing server: latency only)
  counting_counter, // sliding_counter, rejections count (HAProxy's
                    // stick-table http_req_rate)
};

/// What a throttling answer says about when to come back.
enum class retry_after_mode : std::uint8_t {
  rounded, // whole seconds, rounded up (HTTP Retry-After)
  exact,   // the exact time (APIs that answer in milliseconds)
  absent,  // nothing (nginx's limit_req, many proxies)
};

/// An actor the runtime's supervisor restarts (docs/architecture.md).
enum class supervised_role : std::uint8_t { batcher, gate, executor };

} // namespace batching::sim

namespace batching {

template <>
struct enum_names<sim::backend_kind> {
  static constexpr std::array<std::string_view, 2> names{"rate_limited_api",
                                                         "database"};
};
template <>
struct enum_names<sim::budget_kind> {
  static constexpr std::array<std::string_view, 9> names{
    "token_bucket",    "fixed_window", "sliding_log",
    "sliding_counter", "counting_log", "nginx_delay",
    "concurrency",     "unlimited",    "counting_counter"};
};
template <>
struct enum_names<sim::supervised_role> {
  static constexpr std::array<std::string_view, 3> names{"batcher", "gate",
                                                         "executor"};
};
template <>
struct enum_names<sim::retry_after_mode> {
  static constexpr std::array<std::string_view, 3> names{"rounded", "exact",
                                                         "absent"};
};

} // namespace batching
