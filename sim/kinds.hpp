#pragma once

// The simulator's named enums (scenario keys and backend models).

#include <array>
#include <cstdint>
#include <string_view>

#include "runtime/policy/enum_names.hpp"

namespace batching::sim {

enum class backend_kind : std::uint8_t { rate_limited_api, database };
enum class budget_kind : std::uint8_t { token_bucket, fixed_window };

} // namespace batching::sim

namespace batching {

template <>
struct enum_names<sim::backend_kind> {
  static constexpr std::array<std::string_view, 2> names{"rate_limited_api",
                                                         "database"};
};
template <>
struct enum_names<sim::budget_kind> {
  static constexpr std::array<std::string_view, 2> names{"token_bucket",
                                                         "fixed_window"};
};

} // namespace batching
