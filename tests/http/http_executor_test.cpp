// The HTTP executor against real servers on 127.0.0.1: nginx (started by
// the test) for statuses, keep-alive and Retry-After; a closed port and a
// listener that never answers for transport errors; our own HTTP server for
// per-item results and HTTP-date Retry-After.

#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/http/http_executor.hpp"
#include "runtime/http/http_server.hpp"

#include "tests/http/nginx_fixture.hpp"

using namespace batching;
using namespace std::chrono_literals;

namespace {

batch make_batch(std::size_t n, duration timeout = 5s) {
  batch b;
  b.batch_id = 7;
  b.op_type = "write";
  b.timeout = timeout;
  for (std::size_t i = 0; i < n; ++i)
    b.operations.push_back({100 + i, "{\"n\":" + std::to_string(i) + "}"});
  return b;
}

http_backend_config http_cfg(const std::string& url) {
  http_backend_config cfg;
  cfg.url = url;
  cfg.connect_timeout_seconds = 2;
  return cfg;
}

class nginx_test : public testing::Test {
protected:
  static void SetUpTestSuite() {
    server_ = new test::nginx_server{{1000, 1000, "", false}};
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(server_->running()) << server_->error_log();
  }
  static test::nginx_server* server_;
};

test::nginx_server* nginx_test::server_ = nullptr;

} // namespace

TEST_F(nginx_test, success_over_one_keep_alive_connection) {
  auto exec
    = std::make_shared<http_executor>(http_cfg(server_->url("/append")));
  for (int i = 0; i < 20; ++i) {
    auto out = exec->send(make_batch(10));
    ASSERT_EQ(out.status, batch_status::ok) << out.message;
    EXPECT_EQ(out.batch_id, 7u);
    EXPECT_TRUE(out.items.empty());
    EXPECT_GT(out.latency, duration{0});
  }
  EXPECT_EQ(exec->connections_opened(), 1u);
}

TEST_F(nginx_test, client_error_is_permanent_with_the_backends_message) {
  http_executor exec{http_cfg(server_->url("/bad"))};
  auto out = exec.send(make_batch(3));
  EXPECT_EQ(out.status, batch_status::permanent_failure);
  EXPECT_EQ(out.message, "HTTP 400: validation failed: payload too short");
}

TEST_F(nginx_test, server_error_is_retryable) {
  http_executor exec{http_cfg(server_->url("/fail"))};
  auto out = exec.send(make_batch(3));
  EXPECT_EQ(out.status, batch_status::retryable_failure);
  EXPECT_EQ(out.message, "HTTP 500: upstream exploded");
}

TEST_F(nginx_test, unavailable_is_throttled_with_its_retry_after) {
  http_executor exec{http_cfg(server_->url("/unavailable"))};
  auto out = exec.send(make_batch(3));
  EXPECT_EQ(out.status, batch_status::throttled);
  EXPECT_EQ(out.retry_after, duration{2s});
}

TEST(nginx_limit, over_budget_is_throttled_with_retry_after) {
  test::nginx_server server{{1, 0, "", false}};
  ASSERT_TRUE(server.running()) << server.error_log();
  http_executor exec{http_cfg(server.url("/append"))};
  EXPECT_EQ(exec.send(make_batch(1)).status, batch_status::ok);
  auto out = exec.send(make_batch(1)); // within the same second
  EXPECT_EQ(out.status, batch_status::throttled);
  EXPECT_EQ(out.retry_after, duration{1s});
  EXPECT_EQ(out.message, "HTTP 429: rate limited");
  auto log = server.access_log(2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].first, 200);
  EXPECT_EQ(log[1].first, 429);
}

TEST(http_transport, closed_port_is_a_retryable_connection_error) {
  auto port = test::free_port(); // nothing listens there
  http_executor exec{
    http_cfg("http://127.0.0.1:" + std::to_string(port) + "/append")};
  auto out = exec.send(make_batch(5));
  EXPECT_EQ(out.status, batch_status::retryable_failure);
  EXPECT_EQ(out.message, "cannot connect to 127.0.0.1:" + std::to_string(port)
                           + ": Connection refused");
}

TEST(http_transport, a_server_that_never_answers_times_out) {
  test::silent_listener silent;
  ASSERT_NE(silent.port(), 0);
  auto port = std::to_string(silent.port());
  http_executor exec{http_cfg("http://127.0.0.1:" + port + "/append")};
  auto started = std::chrono::steady_clock::now();
  auto out = exec.send(make_batch(5, 300ms));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(out.status, batch_status::retryable_failure);
  EXPECT_EQ(out.message,
            "no answer from 127.0.0.1:" + port + " within 300 ms (timeout)");
  EXPECT_GE(took, 300ms);
}

TEST(http_results, per_item_results_and_http_date_retry_after) {
  int calls = 0;
  http_server server{
    {}, [&](const http_request& req) {
      ++calls;
      http_reply r;
      if (req.path() == "/throttle") {
        r.status = 429;
        // A date far in the past: retry at once.
        r.headers["Retry-After"] = "Sun, 06 Nov 1994 08:49:37 GMT";
        return r;
      }
      // The body is the JSON array of the payloads.
      EXPECT_EQ(req.body, "{\"ops\":[{\"n\":0},{\"n\":1},{\"n\":2}]"
                          ",\"ids\":[100,101,102]}");
      EXPECT_EQ(req.header("x-token"), "secret");
      EXPECT_EQ(req.header("x-batch-id"), "7");
      EXPECT_EQ(req.header("x-batch-attempt"), "1");
      EXPECT_EQ(req.header("host"), "127.0.0.1:" + req.header("x-port"));
      r.body = R"({"results":[{"ok":true},)"
               R"({"error":"duplicate title"},)"
               R"({"error":"busy","retryable":true}]})";
      return r;
    }};
  auto base = "http://127.0.0.1:" + std::to_string(server.port());
  auto cfg = http_cfg(base + "/items");
  cfg.body_template = R"({"ops":{{operations}},"ids":{{ids}}})";
  cfg.results_key = "results";
  cfg.headers["X-Token"] = "secret";
  cfg.headers["X-Port"] = std::to_string(server.port());
  http_executor exec{cfg};
  auto out = exec.send(make_batch(3));
  ASSERT_EQ(out.status, batch_status::ok) << out.message;
  ASSERT_EQ(out.items.size(), 3u);
  EXPECT_EQ(out.items[0].status, item_status::ok);
  EXPECT_EQ(out.items[1].status, item_status::permanent_failure);
  EXPECT_EQ(out.items[1].detail, "duplicate title");
  EXPECT_EQ(out.items[1].operation_id, 101u);
  EXPECT_EQ(out.items[2].status, item_status::retryable_failure);
  http_executor throttled{http_cfg(base + "/throttle")};
  auto t = throttled.send(make_batch(1));
  EXPECT_EQ(t.status, batch_status::throttled);
  EXPECT_EQ(t.retry_after, duration{0});
  EXPECT_EQ(calls, 2);
}

TEST(http_config, bad_settings_are_refused_with_the_reason) {
  EXPECT_THROW(http_executor{http_cfg("ftp://x/")}, std::invalid_argument);
  auto cfg = http_cfg("http://127.0.0.1:1/");
  cfg.body_template = "{{nope}}";
  try {
    http_executor exec{cfg};
    FAIL() << "accepted an unknown placeholder";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("unknown placeholder {{nope}}"),
              std::string::npos);
  }
  auto tls = http_cfg("https://127.0.0.1:1/");
  tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(http_executor{tls}, std::invalid_argument);
}

namespace {

// A CA and a server certificate for 127.0.0.1 signed by it, made with the
// openssl command in `dir`; false when openssl failed.
bool make_certificates(const std::filesystem::path& dir) {
  auto d = dir.string();
  auto cmd = "(cd " + d
             + " && openssl req -x509 -newkey rsa:2048 -nodes -days 2"
               " -subj /CN=batching-test-ca -keyout ca.key -out ca.pem"
               " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1"
               " -keyout server.key -out server.csr"
               " && printf 'subjectAltName=IP:127.0.0.1' > san.ext"
               " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key"
               " -CAcreateserial -days 2 -extfile san.ext -out server.pem)"
               " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

} // namespace

TEST(https, verified_against_the_configured_ca_and_refused_otherwise) {
  auto dir = std::filesystem::temp_directory_path()
             / ("batching-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(make_certificates(dir)) << "openssl failed";
  test::nginx_server server{
    {1000, 1000,
     "    ssl_certificate " + (dir / "server.pem").string() + ";\n"
       + "    ssl_certificate_key " + (dir / "server.key").string() + ";\n",
     true}};
  ASSERT_TRUE(server.running()) << server.error_log();
  auto cfg = http_cfg(server.url("/append"));
  ASSERT_EQ(cfg.url.rfind("https://", 0), 0u);
  cfg.ca_file = (dir / "ca.pem").string();
  auto exec = std::make_shared<http_executor>(cfg);
  for (int i = 0; i < 3; ++i) {
    auto out = exec->send(make_batch(4));
    EXPECT_EQ(out.status, batch_status::ok) << out.message;
  }
  EXPECT_EQ(exec->connections_opened(), 1u); // TLS sessions kept alive
  // The system's CAs do not know this one: refused, retryably, with why.
  http_executor untrusted{http_cfg(server.url("/append"))};
  auto out = untrusted.send(make_batch(1));
  EXPECT_EQ(out.status, batch_status::retryable_failure);
  EXPECT_NE(out.message.find("TLS handshake with 127.0.0.1:"),
            std::string::npos)
    << out.message;
  EXPECT_NE(out.message.find("certificate verify failed"), std::string::npos)
    << out.message;
  std::filesystem::remove_all(dir);
}
