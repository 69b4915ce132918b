// Alert webhooks through real sockets: a receiver that records, one that
// fails twice, and one that never answers (a listening socket nobody
// accepts on): the first gets each notification once, the second after
// its retries, the third times out and is given up, and none of them
// holds up notify() or the others.

#include <condition_variable>
#include <mutex>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "runtime/http/http_server.hpp"
#include "runtime/http/webhook_notifier.hpp"

#include "tests/http/nginx_fixture.hpp"

using namespace batching;
using namespace std::chrono_literals;

namespace {

/// An HTTP receiver that records bodies and answers `fail_first` requests
/// with 500 before answering 204.
class receiver {
public:
  explicit receiver(int fail_first = 0)
    : fail_left_(fail_first),
      server_({}, [this](const http_request& req) { return on(req); }) {
    // nop
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/hook";
  }

  /// Waits (at most `limit`) until `n` bodies were accepted.
  std::vector<std::string> await(std::size_t n, duration limit = 10s) {
    std::unique_lock<std::mutex> guard{lock_};
    got_.wait_for(guard, limit, [&] { return accepted_.size() >= n; });
    return accepted_;
  }

  int requests() {
    std::lock_guard<std::mutex> guard{lock_};
    return requests_;
  }

private:
  http_reply on(const http_request& req) {
    http_reply r;
    std::lock_guard<std::mutex> guard{lock_};
    ++requests_;
    if (fail_left_ > 0) {
      --fail_left_;
      r.status = 500;
      return r;
    }
    accepted_.push_back(req.body);
    got_.notify_all();
    r.status = 204;
    return r;
  }

  std::mutex lock_;
  std::condition_variable got_;
  int fail_left_;
  int requests_ = 0;
  std::vector<std::string> accepted_;
  http_server server_;
};

/// A hung webhook: a port that takes connections and never answers.
std::string hung_url(const test::silent_listener& l) {
  return "http://127.0.0.1:" + std::to_string(l.port()) + "/hook";
}

resource_alert critical_memory() {
  resource_alert a;
  a.level = alert_level::critical;
  a.resource = resource_kind::memory;
  a.value = 95.5;
  a.threshold = 90;
  a.message = "memory at 95.5% >= critical 90% for 30 s";
  return a;
}

} // namespace

TEST(webhook_notifier, every_webhook_gets_it_and_none_holds_the_others_up) {
  receiver ok;
  receiver flaky{2};
  test::silent_listener hung;
  alerting_config cfg;
  cfg.enabled = true;
  cfg.webhooks = {
    {"a_ok", ok.url()}, {"b_flaky", flaky.url()}, {"c_hung", hung_url(hung)}};
  cfg.headers = {{"X-Test", "1"}};
  cfg.max_attempts = 3;
  cfg.timeout_seconds = 0.3;
  cfg.retry_backoff_seconds = 0.05;
  webhook_notifier n{cfg, "node-1"};
  n.notify(critical_memory());
  // A burst of repeats within the interval: queued, never blocking.
  for (int i = 0; i < 100; ++i)
    n.notify(critical_memory());
  auto got = ok.await(1);
  ASSERT_EQ(got.size(), 1u);
  auto body = boost::json::parse(got[0]).as_object();
  EXPECT_EQ(body.at("source").as_string(), "batching");
  EXPECT_EQ(body.at("node").as_string(), "node-1");
  EXPECT_EQ(body.at("resource").as_string(), "memory");
  EXPECT_EQ(body.at("level").as_string(), "critical");
  EXPECT_EQ(body.at("value").as_double(), 95.5);
  EXPECT_EQ(body.at("threshold").as_double(), 90);
  EXPECT_EQ(body.at("attempt").to_number<int>(), 1);
  auto retried = flaky.await(1);
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(flaky.requests(), 3); // two 500s, then accepted
  EXPECT_EQ(boost::json::parse(retried[0]).at("attempt").to_number<int>(), 3);
  // The repeats said nothing new: one notification only.
  EXPECT_EQ(ok.await(2, 200ms).size(), 1u);
}

TEST(webhook_notifier, a_hung_webhook_is_given_up_after_its_attempts) {
  test::silent_listener hung;
  alerting_config cfg;
  cfg.enabled = true;
  cfg.webhooks = {{"hung", hung_url(hung)}};
  cfg.max_attempts = 2;
  cfg.timeout_seconds = 0.2;
  cfg.retry_backoff_seconds = 0.05;
  {
    webhook_notifier n{cfg, "n"};
    n.notify(critical_memory());
    // Ends (destructor) after at most the attempt in flight times out.
  }
  webhook_notifier n{cfg, "n"};
  n.notify(critical_memory());
  EXPECT_TRUE(n.flush(10s)); // two timeouts and a backoff
  auto t = n.totals();
  EXPECT_EQ(t.notified, 1u);
  EXPECT_EQ(t.delivered, 0u);
  EXPECT_EQ(t.dropped, 1u);
}

TEST(webhook_notifier, bad_urls_are_refused_at_start) {
  alerting_config cfg;
  cfg.enabled = true;
  cfg.webhooks = {{"x", "ftp://example.com/hook"}};
  EXPECT_THROW((webhook_notifier{cfg, "n"}), std::invalid_argument);
}
