#include "runtime/http/http_server.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/policy/types.hpp"

namespace batching {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string http_request::header(const std::string& name) const {
  auto i = headers.find(name);
  return i == headers.end() ? std::string{} : i->second;
}

std::string http_request::path() const {
  return target.substr(0, target.find('?'));
}

namespace {

std::string error_json(const std::string& message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      escaped += c;
    }
  }
  return "{\"error\":\"" + escaped + "\"}";
}

using request_parser = http::request_parser<http::string_body>;

// What a connection's reads and parse_http_requests share, so the fuzzed
// path is the served one.

void configure(request_parser& parser, std::uint64_t max_body) {
  parser.body_limit(max_body);
  parser.header_limit(64 * 1024);
  parser.eager(true); // as http::async_read sets it
}

/// The reply to a request that could not be read (then the connection
/// closes).
http_reply refusal(const beast::error_code& ec, std::uint64_t max_body) {
  http_reply r;
  if (ec == http::error::body_limit) {
    r.status = 413;
    r.body = error_json("request body larger than " + std::to_string(max_body)
                        + " bytes");
  } else {
    r.status = 400;
    r.body = error_json("malformed HTTP request: " + ec.message());
  }
  return r;
}

http_request to_request(http::request<http::string_body>&& req) {
  http_request in;
  in.method = std::string{req.method_string()};
  in.target = std::string{req.target()};
  for (const auto& field : req) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    in.headers[name] = std::string{field.value()};
  }
  in.body = std::move(req.body());
  return in;
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, const http_handler& handler,
          std::uint64_t max_body, duration idle)
    : stream_(std::move(socket)), handler_(handler), max_body_(max_body),
      idle_(idle) {
    // nop
  }

  void start() { read(); }

private:
  void read() {
    parser_.emplace();
    configure(*parser_, max_body_);
    stream_.expires_after(idle_);
    http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void on_read(const beast::error_code& ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted)
      return close();
    if (ec)
      return reply(refusal(ec, max_body_), false);
    auto req = parser_->release();
    bool keep_alive = req.keep_alive();
    auto in = to_request(std::move(req));
    http_reply out;
    try {
      out = handler_(in);
    } catch (const std::exception& e) {
      out = http_reply{};
      out.status = 500;
      out.body = error_json(std::string{"internal error: "} + e.what());
    }
    reply(std::move(out), keep_alive);
  }

  void reply(http_reply r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "batching");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers)
      res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    stream_.expires_after(idle_);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res,
                       keep_alive](const beast::error_code& ec, std::size_t) {
                        if (ec || !keep_alive)
                          return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  const http_handler& handler_;
  std::uint64_t max_body_;
  duration idle_;
};

} // namespace

http_parse_result parse_http_requests(std::string_view bytes,
                                      std::uint64_t max_body_bytes,
                                      std::size_t chunk) {
  // http::async_read's loop, with the socket replaced by `bytes` arriving
  // `chunk` at a time: read more when the parser needs it, put what arrived,
  // at the end put_eof if a request had begun.
  http_parse_result out;
  chunk = std::max<std::size_t>(chunk, 1);
  std::string arrived; // received, not yet parsed
  std::size_t next = 0;
  for (;;) {
    request_parser parser;
    configure(parser, max_body_bytes);
    beast::error_code ec;
    bool more = arrived.empty();
    while (!parser.is_done()) {
      if (more) {
        if (next == bytes.size()) { // the client closed
          if (parser.got_some()) {
            parser.put_eof(ec);
            if (ec)
              out.refusal = refusal(ec, max_body_bytes);
            else if (parser.is_done())
              out.requests.push_back(to_request(parser.release()));
          }
          return out;
        }
        auto n = std::min(chunk, bytes.size() - next);
        arrived.append(bytes.substr(next, n));
        next += n;
      }
      ec = {};
      auto used = parser.put(net::buffer(arrived), ec);
      arrived.erase(0, used);
      more = ec == http::error::need_more || (used == 0 && !ec);
      if (ec && ec != http::error::need_more) {
        out.refusal = refusal(ec, max_body_bytes);
        return out;
      }
    }
    auto req = parser.release();
    bool keep_alive = req.keep_alive();
    out.requests.push_back(to_request(std::move(req)));
    if (!keep_alive)
      return out;
  }
}

struct http_server::impl {
  options opts;
  http_handler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::mutex mtx;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(
      net::make_strand(ioc),
      [self = this](const beast::error_code& ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted)
          return;
        if (!ec) {
          beast::error_code ignored;
          socket.set_option(tcp::no_delay{true}, ignored);
          std::make_shared<session>(
            std::move(socket), self->handler, self->opts.max_body_bytes,
            from_seconds(self->opts.idle_timeout_seconds))
            ->start();
        }
        self->accept();
      });
  }
};

http_server::http_server(options opts, http_handler handler)
  : impl_(std::make_shared<impl>()) {
  impl_->opts = std::move(opts);
  impl_->handler = std::move(handler);
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->opts.host, ec);
  if (ec)
    throw std::runtime_error("cannot listen on '" + impl_->opts.host
                             + "': not an IP address");
  tcp::endpoint ep{address, impl_->opts.port};
  auto& acc = impl_->acceptor;
  auto where = impl_->opts.host + ":" + std::to_string(impl_->opts.port);
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  impl_->accept();
  auto n = std::max<std::size_t>(1, impl_->opts.threads);
  for (std::size_t i = 0; i < n; ++i)
    impl_->threads.emplace_back([st = impl_] { st->ioc.run(); });
}

http_server::~http_server() { stop(); }

std::uint16_t http_server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void http_server::stop() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->stopped)
      return;
    impl_->stopped = true;
  }
  // A raw pointer: a handler left queued by stop() below must not keep
  // impl (which owns the queue) alive.
  net::post(impl_->ioc, [st = impl_.get()] {
    beast::error_code ignored;
    st->acceptor.close(ignored);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
}

} // namespace batching
