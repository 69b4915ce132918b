#pragma once

// The HTTP executor: each batch is one HTTP request (Boost.Beast), built
// from the backend's `http` configuration, over keep-alive connections (at
// most max_connections, reused while the server keeps them open; TLS for
// https URLs, verified against the system's CAs or `ca_file`). What the
// answer means is decided by runtime/policy/http_mapping.hpp; its
// rate-limit headers are read by runtime/policy/rate_limit_headers.hpp and
// travel with the outcome to the backend's pacer.
//
//   auto exec = std::make_shared<http_executor>(cfg.backends["default"].http);
//   rt.set_executor("default", exec->callback(), exec->max_connections());
//
// The callback blocks (one request per worker thread) and is thread-safe.
// A reused connection that the server closed while idle is retried once on a
// fresh one before the batch counts as failed.

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/policy/settings.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

class http_executor {
public:
  /// Throws std::invalid_argument naming the problem (bad URL, unknown
  /// body placeholder, unreadable ca_file).
  explicit http_executor(http_backend_config cfg);
  ~http_executor();

  http_executor(const http_executor&) = delete;
  http_executor& operator=(const http_executor&) = delete;

  /// Sends `b` and waits for the answer (at most b.timeout, or 30 s when
  /// the batch has none).
  batch_outcome send(const batch& b);

  /// An answer to request(): the status (0 when none came), the body, or
  /// what went wrong.
  struct answer {
    unsigned status = 0;
    std::string body;
    std::string error;
  };

  /// One request to the same server that is not a batch (`batching config
  /// show --url` reads GET /v1/config): `target` replaces the URL's path,
  /// the configured headers go with it.
  answer request(const std::string& method, const std::string& target,
                 const std::string& body, duration timeout);

  /// A sync_callback sharing this executor.
  static sync_callback callback(std::shared_ptr<http_executor> self);

  std::uint32_t max_connections() const;

  /// Connections opened so far (keep-alive makes this small).
  std::uint64_t connections_opened() const;

  /// Answers whose rate-limit headers had a value ignored (the first one
  /// is reported on stderr).
  std::uint64_t ignored_rate_limit_headers() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace batching
