#pragma once

// The JSON forms of jobs' operations, as `serve` (JSON bodies and JSON
// lines) and `run` (its input file) read them: untrusted text, so every
// problem comes back as a message with its position, never an exception
// (tests/fuzz/job_json_fuzz.cpp). Boost.JSON only: no runtime, no I/O.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "runtime/policy/types.hpp"

namespace batching {

/// Parses one JSON text; nothing and, in `why`, the problem with its
/// position: "malformed JSON at line L, column C: ..." or, when `where`
/// names a one-line text (e.g. "line 3"), "malformed JSON in line 3,
/// column C: ...".
std::optional<boost::json::value> parse_json_text(std::string_view text,
                                                  std::string& why,
                                                  const std::string& where);

/// An operation from its JSON form: {"id": N, "payload": X} (id optional)
/// or any other value X, whose JSON text becomes the payload. Operations
/// without an id get next_id(). False and the problem (prefixed with
/// `where`) in `why` otherwise.
bool operation_from_json(const boost::json::value& v, const std::string& where,
                         const std::function<std::uint64_t()>& next_id,
                         operation& out, std::string& why);

} // namespace batching
