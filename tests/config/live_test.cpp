// Live changes: which keys are live, the diff against the running
// configuration, patches validated like files, secrets redacted.

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/emit.hpp"
#include "config/live.hpp"

using namespace batching;
using namespace batching::config;

namespace {

runtime_config running() {
  runtime_config cfg;
  cfg.server.token = "t0ken";
  cfg.backends["default"].http.url = "https://api.example.com/append";
  cfg.backends["default"].http.headers["Authorization"] = "Bearer abc";
  cfg.monitoring.alerting.webhooks["ops"]
    = "https://hooks.example.com/services/T000/B000/secret";
  return cfg;
}

} // namespace

TEST(live_config, live_keys_are_the_safe_ones) {
  for (auto key :
       {"coordinator.max_concurrent_jobs", "batching.min_batch_size",
        "batching.max_batch_size", "operation_configs.write.strategy",
        "operation_configs.read.preferred_batch_size",
        "operation_configs.x-1.max_batch_size",
        "backends.default.initial_requests_per_second"})
    EXPECT_TRUE(is_live_key(key)) << key;
  for (auto key :
       {"backends.default.http.url", "backends.default.max_in_flight",
        "operation_configs.write.backend", "journal.path",
        "coordinator.max_concurrent_jobsx",
        "operation_configs.write.strategy.x"})
    EXPECT_FALSE(is_live_key(key)) << key;
}

TEST(live_config, a_diff_names_changes_and_refuses_the_rest) {
  auto a = running();
  auto b = a;
  b.operation_configs["write"].strategy = strategy_kind::fixed;
  b.backends["default"].initial_requests_per_second = 9;
  auto d = diff_live(a, b);
  EXPECT_TRUE(d.refused.empty());
  ASSERT_EQ(d.changes.size(), 2u);
  EXPECT_EQ(d.changes[0], (live_change{"operation_configs.write.strategy",
                                       "\"adaptive\"", "\"static\""}));
  EXPECT_EQ(
    d.changes[1],
    (live_change{"backends.default.initial_requests_per_second", "3", "9"}));
  b.backends["default"].http.url = "https://elsewhere.example.com/";
  b.operation_configs["delete"] = {};
  d = diff_live(a, b);
  EXPECT_EQ(d.refused.size(), 1u + 5u); // the URL and every key of a new type
  EXPECT_EQ(d.refused.front(), "operation_configs.delete.preferred_batch_size");
  EXPECT_TRUE(diff_live(a, a).changes.empty());
}

TEST(live_config, a_patch_is_validated_like_a_file) {
  auto r = apply_patch(
    running(), "operation_configs:\n  write: {strategy: static}\n", "patch");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  EXPECT_EQ(r.config.operation_configs.at("write").strategy,
            strategy_kind::fixed);
  EXPECT_EQ(r.config.operation_configs.at("read").strategy,
            strategy_kind::adaptive); // merged, not replaced
  EXPECT_EQ(r.config.backends.at("default").http.headers.at("Authorization"),
            "Bearer abc");
  auto bad = apply_patch(running(), R"({"batching": {"max_batch_size": -1}})",
                         "PATCH");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.errors.front().file, "PATCH");
  EXPECT_EQ(bad.errors.front().line, 1);
  EXPECT_EQ(bad.errors.front().column, 33);
}

TEST(live_config, the_public_view_hides_secrets_and_reads_back) {
  auto v = public_json(running());
  EXPECT_EQ(v.at("server").at("token").as_string(), "<redacted>");
  EXPECT_EQ(
    v.at("backends").at("default").at("http").at("headers").at("Authorization"),
    "<redacted>");
  EXPECT_EQ(v.at("monitoring").at("alerting").at("webhooks").at("ops"),
            "https://hooks.example.com/<redacted>");
  EXPECT_EQ(v.at("backends").at("default").at("http").at("url"),
            "https://api.example.com/append");
  auto back = load({{"GET /v1/config", boost::json::serialize(v), false}});
  EXPECT_TRUE(back.ok()) << back.errors.front().to_string();
}
