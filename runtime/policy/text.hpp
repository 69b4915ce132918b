#pragma once

// Small text helpers shared by every layer that prints numbers for people
// and for files that are read back (YAML, JSON, reports).

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

namespace batching {

/// The shortest text that reads back to exactly `x` ("0.05", "500",
/// "1000000"); whole numbers below 1e15 never use an exponent.
inline std::string format_number(double x) {
  if (x == static_cast<double>(static_cast<long long>(x)) && x < 1e15
      && x > -1e15)
    return std::to_string(static_cast<long long>(x));
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  return ec == std::errc{} ? std::string(buf, end) : std::to_string(x);
}

/// `x` with exactly `decimals` digits after the point ("1.04", "2.6"): for
/// people, where the shortest exact form ("1.04242") is noise.
inline std::string format_fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

/// A p-value for people: two significant digits ("0.031", "2.3e-09").
inline std::string format_p(double p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2g", p);
  return buf;
}

/// `s` without leading and trailing spaces and tabs (HTTP field values).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace batching
