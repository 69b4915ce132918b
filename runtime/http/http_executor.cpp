#include "runtime/http/http_executor.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include "runtime/policy/http_mapping.hpp"
#include "runtime/policy/rate_limit_headers.hpp"

namespace batching {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t max_response_bytes = 64'000'000;
constexpr std::size_t max_message_chars = 300;

// One keep-alive connection with its own io_context: a connection is used
// by one thread at a time, which runs the context until its step is done.
struct connection {
  net::io_context ioc;
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() {
    return secure ? beast::get_lowest_layer(*secure) : *plain;
  }

  // Runs the context until the started operation has completed (the
  // stream's expiry bounds it).
  void run() {
    ioc.restart();
    ioc.run();
  }
};

// A short, single-line message from an error response's body: its JSON
// "message" or "error" field when it has one, else its first characters.
std::string body_message(const std::string& body) {
  beast::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (!ec && value.is_object()) {
    for (auto key : {"message", "error", "detail"}) {
      if (auto* field = value.as_object().if_contains(key)) {
        if (field->is_string())
          return std::string{field->as_string().c_str()};
        if (field->is_object())
          if (auto* inner = field->as_object().if_contains("message");
              inner && inner->is_string())
            return std::string{inner->as_string().c_str()};
      }
    }
  }
  std::string text;
  for (char c : body) {
    if (text.size() >= max_message_chars)
      break;
    text += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

// Per-item results from a 2xx JSON body: object elements with an "error"
// fail their item (retryably when "retryable" is true).
void apply_item_results(batch_outcome& out, const batch& b,
                        const std::string& key, const std::string& body) {
  beast::error_code ec;
  auto value = boost::json::parse(body, ec);
  const boost::json::array* results = nullptr;
  if (!ec && value.is_object())
    if (auto* field = value.as_object().if_contains(key);
        field && field->is_array())
      results = &field->as_array();
  if (!results || results->size() != b.operations.size()) {
    out.message = "response has no '" + key + "' array of "
                  + std::to_string(b.operations.size())
                  + " results; every item counted as accepted";
    return;
  }
  out.items.reserve(results->size());
  for (std::size_t i = 0; i < results->size(); ++i) {
    item_result r;
    r.operation_id = b.operations[i].id;
    const auto& element = (*results)[i];
    if (element.is_object()) {
      const auto& obj = element.as_object();
      auto* error = obj.if_contains("error");
      if (error && !error->is_null()) {
        auto* retry = obj.if_contains("retryable");
        r.status = retry && retry->is_bool() && retry->as_bool()
                     ? item_status::retryable_failure
                     : item_status::permanent_failure;
        r.detail = error->is_string() ? std::string{error->as_string().c_str()}
                                      : boost::json::serialize(*error);
      }
    }
    out.items.push_back(std::move(r));
  }
}

std::string seconds_text(duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                        : std::to_string(ms) + " ms";
}

bool stale_connection_error(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof
         || ec == net::error::connection_reset || ec == net::error::broken_pipe
         || ec == ssl::error::stream_truncated;
}

} // namespace

struct http_executor::impl {
  http_backend_config cfg;
  url_parts url;
  std::string authority;   // host:port, for messages
  std::string host_header; // host, with :port unless the scheme's default
  std::optional<ssl::context> tls;
  std::mutex mtx;
  std::vector<std::unique_ptr<connection>> idle;
  std::optional<tcp::resolver::results_type> endpoints;
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> header_problems{0};

  std::unique_ptr<connection> acquire() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    return nullptr;
  }

  void release(std::unique_ptr<connection> c) {
    std::lock_guard<std::mutex> guard{mtx};
    if (idle.size() < cfg.max_connections)
      idle.push_back(std::move(c));
  }

  // Opens a connection; nothing and the reason in `why` on failure.
  std::unique_ptr<connection> open(std::string& why) {
    auto c = std::make_unique<connection>();
    beast::error_code ec;
    std::optional<tcp::resolver::results_type> eps;
    {
      std::lock_guard<std::mutex> guard{mtx};
      eps = endpoints;
    }
    if (!eps) {
      tcp::resolver resolver{c->ioc};
      auto found = resolver.resolve(url.host, url.port, ec);
      if (ec) {
        why = "cannot resolve " + url.host + ": " + ec.message();
        return nullptr;
      }
      eps = found;
      std::lock_guard<std::mutex> guard{mtx};
      endpoints = found;
    }
    if (tls)
      c->secure.emplace(c->ioc, *tls);
    else
      c->plain.emplace(c->ioc);
    auto timeout = from_seconds(cfg.connect_timeout_seconds);
    c->lowest().expires_after(timeout);
    c->lowest().async_connect(
      *eps, [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    c->run();
    if (ec) {
      why = "cannot connect to " + authority + ": "
            + (ec == beast::error::timeout
                 ? "no answer within " + seconds_text(timeout)
                 : ec.message());
      std::lock_guard<std::mutex> guard{mtx};
      endpoints.reset(); // resolve again next time
      return nullptr;
    }
    c->lowest().socket().set_option(tcp::no_delay{true}, ec);
    if (tls) {
      if (!SSL_set_tlsext_host_name(c->secure->native_handle(),
                                    url.host.c_str())) {
        why = "TLS: cannot set the server name " + url.host;
        return nullptr;
      }
      c->secure->set_verify_callback(ssl::host_name_verification{url.host});
      c->lowest().expires_after(timeout);
      c->secure->async_handshake(ssl::stream_base::client,
                                 [&](const beast::error_code& e) { ec = e; });
      c->run();
      if (ec) {
        why = "TLS handshake with " + authority + " failed: " + ec.message();
        return nullptr;
      }
    }
    ++opened;
    return c;
  }

  struct exchange_result {
    beast::error_code ec;
    bool got_bytes = false; // some of the response arrived
    http::response<http::string_body> response;
  };

  /// What the answer's rate-limit headers say; the first value ignored is
  /// reported once (a misbehaving server must not flood the log).
  rate_limit_advice read_advice(const http::response<http::string_body>& res,
                                std::int64_t now_unix) {
    std::vector<header_field> fields;
    for (const auto& f : res)
      if (is_rate_limit_header(f.name_string()))
        fields.push_back(
          {std::string{f.name_string()}, std::string{f.value()}});
    if (fields.empty())
      return {};
    auto reading = read_rate_limit_headers(fields, now_unix);
    if (!reading.problem.empty() && header_problems++ == 0)
      std::cerr << "batching: warning: rate-limit header from " << authority
                << " ignored: " << reading.problem
                << " (reported once; the pacer learns what is missing)\n";
    return reading.advice;
  }

  exchange_result exchange(connection& c,
                           const http::request<http::string_body>& req,
                           duration timeout) {
    exchange_result r;
    c.lowest().expires_after(timeout);
    auto write = [&](auto& stream) {
      http::async_write(
        stream, req,
        [&](const beast::error_code& e, std::size_t) { r.ec = e; });
    };
    if (c.secure)
      write(*c.secure);
    else
      write(*c.plain);
    c.run();
    if (r.ec)
      return r;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes);
    auto read = [&](auto& stream) {
      http::async_read(stream, c.buffer, parser,
                       [&](const beast::error_code& e, std::size_t n) {
                         r.ec = e;
                         r.got_bytes = n > 0;
                       });
    };
    if (c.secure)
      read(*c.secure);
    else
      read(*c.plain);
    c.run();
    if (!r.ec)
      r.response = parser.release();
    return r;
  }
};

http_executor::http_executor(http_backend_config cfg)
  : impl_(std::make_unique<impl>()) {
  std::string error;
  auto url = parse_url(cfg.url, &error);
  if (!url)
    throw std::invalid_argument(error);
  if (auto problem = check_body_template(cfg.body_template); !problem.empty())
    throw std::invalid_argument(problem);
  if (cfg.method.empty()
      || http::string_to_verb(cfg.method) == http::verb::unknown)
    throw std::invalid_argument("unknown HTTP method '" + cfg.method + "'");
  impl_->url = *url;
  impl_->authority = url->host + ":" + url->port;
  auto bracketed = url->host.find(':') != std::string::npos
                     ? "[" + url->host + "]"
                     : url->host;
  bool default_port = url->port == (url->tls ? "443" : "80");
  impl_->host_header = default_port ? bracketed : bracketed + ":" + url->port;
  if (url->tls) {
    auto& ctx = impl_->tls.emplace(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (cfg.ca_file.empty())
      ctx.set_default_verify_paths(ec);
    else
      ctx.load_verify_file(cfg.ca_file, ec);
    if (ec)
      throw std::invalid_argument(
        "cannot load the CA certificates"
        + (cfg.ca_file.empty() ? std::string{} : " of '" + cfg.ca_file + "'")
        + ": " + ec.message());
  }
  impl_->cfg = std::move(cfg);
}

http_executor::~http_executor() = default;

std::uint32_t http_executor::max_connections() const {
  return impl_->cfg.max_connections;
}

std::uint64_t http_executor::connections_opened() const {
  return impl_->opened.load();
}

std::uint64_t http_executor::ignored_rate_limit_headers() const {
  return impl_->header_problems.load();
}

http_executor::answer http_executor::request(const std::string& method,
                                             const std::string& target,
                                             const std::string& body,
                                             duration timeout) {
  auto& st = *impl_;
  answer a;
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    a.error = "unknown HTTP method '" + method + "'";
    return a;
  }
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, st.host_header);
  req.set(http::field::user_agent, "batching/0.1");
  for (const auto& [name, value] : st.cfg.headers)
    req.set(name, value);
  if (!body.empty())
    req.set(http::field::content_type, st.cfg.content_type);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  std::string why;
  auto conn = st.open(why);
  if (!conn) {
    a.error = why;
    return a;
  }
  auto r = st.exchange(*conn, req, timeout);
  if (r.ec) {
    a.error = r.ec == beast::error::timeout
                ? "no answer from " + st.authority + " within "
                    + seconds_text(timeout) + " (timeout)"
                : "request to " + st.authority + " failed: " + r.ec.message();
    return a;
  }
  a.status = r.response.result_int();
  a.body = std::move(r.response.body());
  return a;
}

sync_callback http_executor::callback(std::shared_ptr<http_executor> self) {
  return [self](const batch& b) { return self->send(b); };
}

batch_outcome http_executor::send(const batch& b) {
  auto& st = *impl_;
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<duration>(std::chrono::steady_clock::now()
                                                - started);
  };
  auto timeout
    = b.timeout > duration{0} ? b.timeout : duration{std::chrono::seconds{30}};
  http::request<http::string_body> req{http::string_to_verb(st.cfg.method),
                                       st.url.target, 11};
  req.set(http::field::host, st.host_header);
  req.set(http::field::user_agent, "batching/0.1");
  req.set(http::field::content_type, st.cfg.content_type);
  // Which batch and try this is (a retry regroups operations into a new
  // batch, so deduplication belongs to the operation ids: {{ids}}).
  req.set("X-Batch-Id", std::to_string(b.batch_id));
  req.set("X-Batch-Attempt", std::to_string(b.attempt));
  for (const auto& [name, value] : st.cfg.headers)
    req.set(name, value);
  req.keep_alive(true);
  req.body() = render_body(st.cfg.body_template, b);
  req.prepare_payload();

  // A pooled connection may have been closed by the server while idle:
  // one more try on a fresh connection then.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = attempt == 0 ? st.acquire() : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      std::string why;
      conn = st.open(why);
      if (!conn)
        return transport_outcome(b, why, elapsed());
    }
    auto left = timeout - elapsed();
    if (left <= duration{0})
      return transport_outcome(b,
                               "no answer from " + st.authority + " within "
                                 + seconds_text(timeout) + " (timeout)",
                               elapsed());
    auto r = st.exchange(*conn, req, left);
    if (r.ec) {
      if (reused && !r.got_bytes && stale_connection_error(r.ec))
        continue;
      auto why
        = r.ec == beast::error::timeout
            ? "no answer from " + st.authority + " within "
                + seconds_text(timeout) + " (timeout)"
            : "request to " + st.authority + " failed: " + r.ec.message();
      return transport_outcome(b, why, elapsed());
    }
    auto& res = r.response;
    auto code = res.result_int();
    auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    auto status = classify_status(code);
    auto out = http_outcome(
      b, code, std::string{res[http::field::retry_after]},
      status == batch_status::ok ? std::string{} : body_message(res.body()),
      now_unix, elapsed());
    if (status == batch_status::ok && !st.cfg.results_key.empty())
      apply_item_results(out, b, st.cfg.results_key, res.body());
    out.advice = st.read_advice(res, now_unix);
    if (res.keep_alive())
      st.release(std::move(conn));
    return out;
  }
  return transport_outcome(b, "request to " + st.authority + " failed",
                           elapsed());
}

} // namespace batching
