// The embedding API on CAF's real threaded scheduler with real function
// executors: a host thread pushes 1,000,000 operations through it, errors
// come back as values, and stop() never hangs.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "runtime/system/runtime.hpp"

#include "tests/support/quiet_runtime.hpp"

using namespace batching;
using testing_support::quiet;
using namespace std::chrono_literals;

namespace {

runtime_config fast_config() {
  runtime_config cfg;
  cfg.batching.linger_ms = 2;
  cfg.coordinator.max_queued_operations = 2'000'000;
  cfg.coordinator.max_concurrent_jobs = 1000;
  auto& be = cfg.backends["default"];
  be.initial_requests_per_second = 0; // unpaced: the executor is local
  be.max_in_flight = 16;
  be.request_timeout_seconds = 5;
  return cfg;
}

std::vector<operation> make_ops(std::uint64_t n, std::uint64_t first = 0) {
  std::vector<operation> ops;
  ops.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i)
    ops.push_back({first + i, "{}"});
  return ops;
}

} // namespace

TEST(runtime, a_million_operations_all_complete) {
  runtime rt{fast_config(), quiet()};
  std::atomic<std::uint64_t> executed{0};
  rt.set_executor(
    "default",
    [&](const batch& b) {
      executed += b.operations.size();
      return batch_outcome{};
    },
    2);
  rt.start();
  constexpr std::uint64_t per_job = 10'000;
  constexpr std::uint64_t jobs = 100;
  std::vector<std::uint64_t> ids;
  for (std::uint64_t j = 0; j < jobs; ++j) {
    auto r
      = rt.submit_job(j % 2 ? "write" : "read", make_ops(per_job, j * per_job),
                      j % 3 ? priority::normal : priority::high);
    ASSERT_TRUE(r) << r.message;
    ids.push_back(r.job_id);
  }
  std::uint64_t succeeded = 0;
  for (auto id : ids) {
    auto s = rt.wait(id, 120s);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state, job_state::completed);
    EXPECT_EQ(s->total, per_job);
    succeeded += s->succeeded;
  }
  EXPECT_EQ(succeeded, per_job * jobs);
  EXPECT_EQ(executed.load(), per_job * jobs);
  auto board = rt.dashboard();
  EXPECT_EQ(board.at("coordinator_status").at("queued_operations"), 0);
  EXPECT_EQ(board.at("coordinator_status").at("ledger_violations"), 0);
  EXPECT_EQ(board.at("batching_metrics").at("read").at("succeeded"),
            per_job * jobs / 2);
  EXPECT_TRUE(rt.stop(10s));
  EXPECT_FALSE(rt.running());
}

TEST(runtime, rejected_jobs_come_back_as_values) {
  runtime rt{fast_config(), quiet()};
  auto before = rt.submit_job("read", make_ops(1));
  EXPECT_EQ(before.error, error_code::shutting_down);
  rt.set_inline_executor("default",
                         [](const batch&) { return batch_outcome{}; });
  rt.start();
  auto unknown = rt.submit_job("delete", make_ops(3));
  EXPECT_FALSE(unknown);
  EXPECT_EQ(unknown.error, error_code::unknown_operation_type);
  EXPECT_EQ(unknown.message,
            "unknown operation type 'delete' (configured: read, write)");
  auto empty = rt.submit_job("read", {});
  EXPECT_EQ(empty.error, error_code::empty_job);
  EXPECT_FALSE(rt.status(12345));
  EXPECT_FALSE(rt.cancel(12345));
  EXPECT_TRUE(rt.stop());
}

TEST(runtime, start_needs_an_executor_for_every_backend) {
  runtime rt{fast_config(), quiet()};
  EXPECT_THROW(rt.start(), std::invalid_argument);
  auto cfg = fast_config();
  cfg.operation_configs["write"].backend = "elsewhere"; // not configured
  runtime other{cfg, quiet()};
  other.set_inline_executor("default",
                            [](const batch&) { return batch_outcome{}; });
  EXPECT_THROW(other.start(), std::invalid_argument);
  EXPECT_FALSE(other.running());
}

TEST(runtime, async_executors_complete_from_host_threads) {
  runtime rt{fast_config(), quiet()};
  rt.set_async_executor("default", [](const batch&, completion done) {
    std::thread{[done] { done(batch_outcome{}); }}.detach();
  });
  rt.start();
  auto r = rt.submit_job("write", make_ops(1000));
  ASSERT_TRUE(r);
  auto s = rt.wait(r.job_id, 30s);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->succeeded, 1000u);
  EXPECT_TRUE(rt.stop());
}

TEST(runtime, stop_never_hangs_on_a_callback_that_never_returns) {
  auto cfg = fast_config();
  cfg.backends["default"].request_timeout_seconds = 10;
  cfg.backends["default"].max_attempts = 1;
  runtime rt{cfg, quiet()};
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  rt.set_executor(
    "default",
    [&](const batch&) {
      std::unique_lock<std::mutex> lock{m};
      cv.wait(lock, [&] { return release; });
      return batch_outcome{};
    },
    1);
  rt.start();
  auto r = rt.submit_job("read", make_ops(500));
  ASSERT_TRUE(r);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(rt.stop(300ms)); // cannot drain: cancels and returns
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  {
    std::lock_guard<std::mutex> lock{m};
    release = true;
  }
  cv.notify_all();
}

TEST(runtime, loads_its_configuration_from_files) {
  std::string errors;
  auto dir = std::string{BATCHING_SOURCE_DIR} + "/config/";
  auto rt = runtime::from_files({dir + "batching_config.yaml"}, "production",
                                errors, quiet());
  ASSERT_TRUE(rt) << errors;
  EXPECT_EQ(rt->config().batching.max_batch_size, 1000u);
  auto bad = runtime::from_files({"/nonexistent.yaml"}, "", errors, quiet());
  EXPECT_FALSE(bad);
  EXPECT_EQ(errors,
            "/nonexistent.yaml: error: cannot read file: No such file or "
            "directory\n");
}

// The optimizer through the embedding API (its learning is tested on the
// deterministic scheduler in tests/actors/optimizer_actor_test.cpp).
TEST(runtime, the_optimizer_answers_through_the_embedding_api) {
  auto cfg = fast_config();
  cfg.operation_configs["write"].strategy = strategy_kind::ml;
  runtime rt{cfg, quiet()};
  rt.set_inline_executor("default",
                         [](const batch&) { return batch_outcome{}; });
  rt.start();
  feature_vector f;
  f.batch_size = 42;
  auto p = rt.predict_optimal_batch_size("write", f, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->op_type, "write");
  EXPECT_EQ(p->confidence, 0); // nothing learned yet
  EXPECT_EQ(p->batch_size, 42u);
  auto in = rt.optimization_insights();
  ASSERT_TRUE(in);
  EXPECT_EQ(in->total_predictions, 1u);
  std::string error;
  EXPECT_FALSE(rt.start_ab_test({"t", "adaptive", "nope", 60s, ""}, &error));
  EXPECT_NE(error.find("unknown strategy 'nope'"), std::string::npos) << error;
  auto id = rt.start_ab_test({"t", "adaptive", "ml", 60s, ""});
  ASSERT_TRUE(id);
  rt.record_ab_test_result(*id, false, 1.0);
  rt.record_ab_test_result(*id, true, 2.0);
  auto r = rt.analyze_ab_test(*id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->control_strategy, "adaptive");
  EXPECT_EQ(r->test_strategy, "ml");
  EXPECT_GE(r->control_samples, 1u);
  EXPECT_GE(r->test_samples, 1u);
  EXPECT_EQ(r->recommendation, ab_recommendation::inconclusive);
  EXPECT_FALSE(rt.analyze_ab_test("ab-404"));
  EXPECT_TRUE(rt.stop());
}
