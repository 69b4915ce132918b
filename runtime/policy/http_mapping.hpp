#pragma once

// What an HTTP exchange means for a batch, decided without any I/O: the
// HTTP executor (runtime/http/) only moves bytes.
//
// Status mapping (classify_status):
//   2xx                    ok (per-item results may still fail items)
//   429, 503               throttled; Retry-After (delta-seconds or an
//                          IMF-fixdate HTTP date, relative to `now_unix`)
//                          becomes the outcome's retry_after (0 if absent or
//                          unreadable: the pacer then backs off on its own)
//   other 5xx, 408         retryable failure (the backend may recover)
//   other 4xx, 1xx, 3xx    permanent failure: retrying cannot help, and the
//                          response's message is kept for the job status
// A connection error or timeout is a retryable failure (transport_outcome).
//
// Body template placeholders (render_body), each replaced verbatim:
//   {{operations}}  [p1,p2,...]  the payloads, which must be JSON texts
//   {{payloads}}    p1,p2,...    the same without the brackets
//   {{ids}}         [id1,...]    the operations' ids (idempotency keys)
//   {{count}} {{batch_id}} {{attempt}}  numbers;  {{op_type}}  the type name
// Any other {{...}} is an error found when the template is checked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/policy/types.hpp"

namespace batching {

/// A parsed http(s) URL.
struct url_parts {
  bool tls = false;
  std::string host;
  std::string port;   // "80"/"443" when the URL has none
  std::string target; // path and query, "/" when empty

  bool operator==(const url_parts&) const = default;
};

/// Nothing (and why in `error`) unless `url` is http://host[:port][/path].
std::optional<url_parts> parse_url(std::string_view url, std::string* error);

/// A listen address "host:port" (port may be 0: any free port).
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

std::optional<host_port> parse_host_port(std::string_view text,
                                         std::string* error);

/// Retry-After as a duration: delta-seconds, or an IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT") relative to `now_unix` (seconds since
/// the epoch; a past date means 0). Nothing when unreadable.
std::optional<duration> parse_retry_after(std::string_view value,
                                          std::int64_t now_unix);

/// The batch status an HTTP status code means.
batch_status classify_status(unsigned code);

/// The outcome of a whole-batch answer (no per-item results): status from
/// the code, retry_after from the header value, and for failures the
/// message "HTTP <code>: <detail>" with the body's own message.
batch_outcome http_outcome(const batch& b, unsigned code,
                           std::string_view retry_after_header,
                           std::string_view body_message, std::int64_t now_unix,
                           duration latency);

/// A request that got no answer (refused, reset, timed out): retryable.
batch_outcome transport_outcome(const batch& b, std::string message,
                                duration latency);

/// Empty when every placeholder of `tmpl` is known, else the problem.
std::string check_body_template(std::string_view tmpl);

/// The request body of `b` (the template must pass check_body_template).
std::string render_body(std::string_view tmpl, const batch& b);

/// Compares in time independent of where the texts differ (bearer tokens).
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace batching
