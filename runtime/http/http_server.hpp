#pragma once

// A small HTTP/1.1 server (Boost.Beast): keep-alive connections served on a
// few threads, bodies up to a limit (413 beyond, before the handler runs),
// chunked request bodies accepted (so clients may stream JSON lines). The
// handler sees plain structs, no Beast.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batching {

struct http_request {
  std::string method;                         // "GET", "POST", ...
  std::string target;                         // path and query
  std::map<std::string, std::string> headers; // names in lower case
  std::string body;

  /// The header's value, or "" when absent (name in lower case).
  std::string header(const std::string& name) const;
  /// The target without its query.
  std::string path() const;
};

struct http_reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

using http_handler = std::function<http_reply(const http_request&)>;

/// What the server reads from the bytes a client sends on one connection:
/// the requests in order, and the reply that ends it when one cannot be
/// read (400 malformed, 413 body over the limit; the connection closes).
struct http_parse_result {
  std::vector<http_request> requests;
  std::optional<http_reply> refusal;
};

/// Reads `bytes` as a connection does (the same Beast parser, limits and
/// loop), arriving `chunk` bytes at a time; stops after a request that does
/// not keep the connection alive. For tests and the fuzz target.
http_parse_result parse_http_requests(std::string_view bytes,
                                      std::uint64_t max_body_bytes,
                                      std::size_t chunk);

class http_server {
public:
  struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0; // 0: any free port
    std::size_t threads = 4;
    std::uint64_t max_body_bytes = 16'000'000;
    /// An idle keep-alive connection is closed after this many seconds.
    double idle_timeout_seconds = 30;
  };

  /// Throws std::runtime_error when the address cannot be bound.
  http_server(options opts, http_handler handler);
  /// Stops.
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port (the real one when options.port was 0).
  std::uint16_t port() const;

  /// Stops accepting, closes connections, joins the threads. Idempotent.
  void stop();

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace batching
