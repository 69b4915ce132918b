#pragma once

// Rate-limit headers: what an answer says about the budget left, read
// without any I/O (the HTTP executor hands the fields in, the simulator's
// backends write them with write_rate_limit_headers).
//
// Algorithm. Every style present in one answer yields candidate policies
// (q = quota requests per window, w = window seconds, r = requests
// remaining, t = seconds until the quota is restored; any may be unknown):
//   IETF draft 8+ (structured fields):
//     RateLimit-Policy: "name";q=30;w=10, ...   RateLimit: "name";r=12;t=4
//     (joined by name; a RateLimit member without a policy still counts)
//   IETF draft 7:  RateLimit: limit=30, remaining=12, reset=4
//   IETF draft 6:  RateLimit-Limit: 30  RateLimit-Remaining: 12
//                  RateLimit-Reset: 4   (w from "30;w=10" in -Limit or in
//                  RateLimit-Policy: 30;w=10, matched by quota)
//   legacy:        X-RateLimit-Limit / -Remaining (or -Used) / -Reset, reset
//                  in seconds, or a Unix time in seconds (>= 1e9) or
//                  milliseconds (>= 1e12), told apart by size.
// The most restrictive candidate binds: the smallest allowance, r/t when r
// and t are known (0 when r = 0), else q/w, else unbounded.
// Defensive: names compare case-insensitively; a field that does not parse,
// a negative, non-finite or absurd value (q > 1e9, w or t > 1 day), r > q or
// t > w + 1 drops its candidate and is named in `problem` (the first one);
// the caller warns once and learning covers what is missing. Never throws.
// Invariant: every known field of the advice is finite and >= 0, with
// r <= q and t <= w + 1 where both are known.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/policy/types.hpp"

namespace batching {

/// One header field as received (name in any case).
struct header_field {
  std::string name;
  std::string value;
};

struct rate_limit_reading {
  rate_limit_advice advice;
  std::string problem; // the first value ignored and why; empty when none
};

/// Reads every rate-limit style in `fields`; `now_unix` converts a legacy
/// reset given as a Unix time (a time in the past means 0).
rate_limit_reading
read_rate_limit_headers(const std::vector<header_field>& fields,
                        std::int64_t now_unix);

/// Whether a header name is one read_rate_limit_headers looks at (so a
/// caller copies only those).
bool is_rate_limit_header(std::string_view name);

/// The header styles a backend can send.
enum class header_style : std::uint8_t {
  none,
  ietf,              // draft 8+: RateLimit-Policy + RateLimit with q, w, r, t
  ietf_draft7,       // RateLimit: limit=, remaining=, reset= + RateLimit-Policy
  ietf_draft6,       // RateLimit-Limit / -Remaining / -Reset + RateLimit-Policy
  x_ratelimit,       // X-RateLimit-Limit / -Remaining / -Reset (seconds)
  x_ratelimit_epoch, // the same with the reset as a Unix time
};

template <>
struct enum_names<header_style> {
  static constexpr std::array<std::string_view, 6> names{
    "none",        "ietf",        "ietf_draft7",
    "ietf_draft6", "x_ratelimit", "x_ratelimit_epoch"};
};

/// The fields a backend of `style` sends for quota q per window w with r
/// left and t seconds to the reset (numbers rounded as such servers do:
/// q, r down, w, t up to whole units).
std::vector<header_field>
write_rate_limit_headers(header_style style, double quota, double window_s,
                         double remaining, double reset_s,
                         std::int64_t now_unix);

} // namespace batching
