#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "runtime/policy/http_mapping.hpp"

using namespace batching;
using namespace std::chrono_literals;

TEST(http_mapping, urls) {
  auto u
    = parse_url("https://api.notion.com/v1/blocks/x/children?a=1", nullptr);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (url_parts{true, "api.notion.com", "443",
                           "/v1/blocks/x/children?a=1"}));
  EXPECT_EQ(*parse_url("http://127.0.0.1:8080", nullptr),
            (url_parts{false, "127.0.0.1", "8080", "/"}));
  EXPECT_EQ(*parse_url("http://h?q=1", nullptr),
            (url_parts{false, "h", "80", "/?q=1"}));
  EXPECT_EQ(*parse_url("http://[::1]:9/x", nullptr),
            (url_parts{false, "::1", "9", "/x"}));
  std::string why;
  EXPECT_FALSE(parse_url("ftp://h/", &why));
  EXPECT_EQ(why, "invalid URL 'ftp://h/': expected http:// or https://");
  EXPECT_FALSE(parse_url("http://h:99999/", &why));
  EXPECT_EQ(why, "invalid URL 'http://h:99999/': bad port '99999'");
  EXPECT_FALSE(parse_url("http://user:pw@h/", &why));
  EXPECT_FALSE(parse_url("http:///x", &why));
  EXPECT_EQ(why, "invalid URL 'http:///x': no host");
}

TEST(http_mapping, listen_addresses) {
  auto hp = parse_host_port("127.0.0.1:0", nullptr);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 0);
  EXPECT_EQ(parse_host_port("[::1]:80", nullptr)->host, "::1");
  std::string why;
  EXPECT_FALSE(parse_host_port("8080", &why));
  EXPECT_EQ(why, "expected HOST:PORT (e.g. 127.0.0.1:8080), got '8080'");
  EXPECT_FALSE(parse_host_port("h:70000", &why));
}

TEST(http_mapping, retry_after_seconds_and_dates) {
  EXPECT_EQ(parse_retry_after("2", 0), duration{2s});
  EXPECT_EQ(parse_retry_after(" 0 ", 0), duration{0s});
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770),
            duration{7s});
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111790),
            duration{0s});                                       // in the past
  EXPECT_EQ(parse_retry_after("99999999", 0), duration{86400s}); // capped
  EXPECT_FALSE(parse_retry_after("soon", 0));
  EXPECT_FALSE(parse_retry_after("-1", 0));
  EXPECT_FALSE(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", 0));
}

TEST(http_mapping, statuses) {
  EXPECT_EQ(classify_status(200), batch_status::ok);
  EXPECT_EQ(classify_status(204), batch_status::ok);
  EXPECT_EQ(classify_status(429), batch_status::throttled);
  EXPECT_EQ(classify_status(503), batch_status::throttled);
  EXPECT_EQ(classify_status(500), batch_status::retryable_failure);
  EXPECT_EQ(classify_status(502), batch_status::retryable_failure);
  EXPECT_EQ(classify_status(408), batch_status::retryable_failure);
  EXPECT_EQ(classify_status(400), batch_status::permanent_failure);
  EXPECT_EQ(classify_status(404), batch_status::permanent_failure);
  EXPECT_EQ(classify_status(301), batch_status::permanent_failure);
  batch b;
  b.batch_id = 3;
  auto t = http_outcome(b, 429, "5", "slow down", 0, 10ms);
  EXPECT_EQ(t.status, batch_status::throttled);
  EXPECT_EQ(t.retry_after, duration{5s});
  EXPECT_EQ(t.message, "HTTP 429: slow down");
  EXPECT_EQ(t.batch_id, 3u);
  auto ok = http_outcome(b, 200, "5", "", 0, 10ms);
  EXPECT_EQ(ok.retry_after, duration{0});
  EXPECT_TRUE(ok.message.empty());
}

TEST(http_mapping, body_templates) {
  batch b;
  b.batch_id = 9;
  b.attempt = 2;
  b.op_type = "write";
  b.operations = {{11, "{\"a\":1}"}, {12, "\"x\""}};
  EXPECT_EQ(render_body("{{operations}}", b), "[{\"a\":1},\"x\"]");
  EXPECT_EQ(render_body("{\"children\":[{{payloads}}],\"n\":{{count}}}", b),
            "{\"children\":[{\"a\":1},\"x\"],\"n\":2}");
  EXPECT_EQ(render_body("{{ids}} {{batch_id}} {{attempt}} {{op_type}}", b),
            "[11,12] 9 2 write");
  EXPECT_EQ(check_body_template("{{operations}}"), "");
  EXPECT_EQ(check_body_template("{{operations}"),
            "unclosed '{{' in the body template");
  EXPECT_EQ(
    check_body_template("{{ops}}").rfind("unknown placeholder {{ops}}", 0), 0u);
}

RC_GTEST_PROP(http_mapping, operations_render_as_a_json_array_of_payloads,
              (const std::vector<std::uint32_t>& values)) {
  batch b;
  std::string expected = "[";
  for (auto v : values) {
    b.operations.push_back({v, std::to_string(v)});
    if (expected.size() > 1)
      expected += ',';
    expected += std::to_string(v);
  }
  expected += ']';
  RC_ASSERT(render_body("{{operations}}", b) == expected);
}

TEST(http_mapping, tokens_compare_whole) {
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cres"));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cret1"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal("", ""));
}
