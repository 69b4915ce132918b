#pragma once

// One place for the text names of the runtime's enums: each enum specializes
// `enum_names` with the names in declaration order, and gets `to_string`
// (for printing, CAF's deep_to_string, YAML and JSON) and `parse_enum` (for
// configuration and the CLI) from the templates below.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace batching {

/// Specialize with `static constexpr std::array<std::string_view, N> names`.
template <class Enum>
struct enum_names;

template <class Enum>
concept named_enum = requires {
  enum_names<Enum>::names;
};

/// Whether `x` is one of the enum's values (one cast from a number, e.g.
/// a peer's bytes, may be none).
template <named_enum Enum>
constexpr bool is_named(Enum x) {
  return static_cast<std::size_t>(x) < enum_names<Enum>::names.size();
}

template <named_enum Enum>
std::string to_string(Enum x) {
  const auto& names = enum_names<Enum>::names;
  return is_named(x) ? std::string{names[static_cast<std::size_t>(x)]}
                     : std::string{"?"};
}

/// Returns the enum value named `text`, or nothing.
template <named_enum Enum>
std::optional<Enum> parse_enum(std::string_view text) {
  const auto& names = enum_names<Enum>::names;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == text)
      return static_cast<Enum>(i);
  return std::nullopt;
}

/// Returns the valid names joined by ", " (for error messages).
template <named_enum Enum>
std::string enum_choices() {
  std::string result;
  for (auto name : enum_names<Enum>::names) {
    if (!result.empty())
      result += ", ";
    result += name;
  }
  return result;
}

} // namespace batching
