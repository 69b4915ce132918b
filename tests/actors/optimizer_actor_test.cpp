// The optimizer on the deterministic scheduler: training in its model
// actors, predictions, the restart of a killed model actor with its last
// good model, saved models (round trip, missing and corrupt files), and
// A/B tests, recorded by hand and split by the batchers of a topology.

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "actors/optimizer_actor.hpp"
#include "runtime/system/topology.hpp"
#include "sim/rate_limited_api.hpp"

#include "tests/actors/actor_fixture.hpp"
#include "tests/model/synthetic_surface.hpp"

using namespace batching;
using namespace batching::testing_support;
using namespace std::chrono_literals;

namespace {

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(what) != std::string::npos;
  });
}

class optimizer_test : public actor_fixture {
protected:
  std::filesystem::path dir
    = std::filesystem::temp_directory_path()
      / ("batching-optimizer-test-" + std::to_string(::getpid()));

  void TearDown() override {
    actor_fixture::TearDown();
    std::filesystem::remove_all(dir);
  }

  optimizer_actor spawn(std::string model_dir = {}) {
    optimizer_settings s;
    s.optimizer.retrain_every = 50;
    s.optimizer.model_dir = std::move(model_dir);
    s.bounds["write"] = {10, 200};
    s.learning_types = {"write"};
    s.detached_models = false;
    return track(spawn_optimizer(sys, std::move(s)));
  }

  void feed(const optimizer_actor& o, std::size_t n, std::uint64_t seed = 3) {
    for (auto& s : synthetic(n, seed))
      caf::anon_send(o, s);
    sched.run();
  }

  /// The default topology against the simulated Notion API (3
  /// requests/s), every actor tracked.
  topology notion_topology() {
    sim::rate_limited_api::config api_cfg;
    api_cfg.seed = 11;
    auto api = std::make_shared<sim::rate_limited_api>(api_cfg, now());
    auto exec = spawn_scripted(
      [api, this](const batch& b) { return api->serve(b, now()); });
    auto t
      = spawn_topology(sys, runtime_config{}, {{"default", exec}}, nullptr);
    track(t.coordinator);
    track(t.optimizer);
    track(t.supervisor);
    for (auto& [_, b] : t.batchers)
      track(b);
    for (auto& [_, g] : t.gates)
      track(g);
    return t;
  }

  /// One write job of `n` operations of 200 bytes.
  void submit_backlog(const topology& t, std::uint64_t n) {
    std::vector<operation> ops;
    for (std::uint64_t i = 0; i < n; ++i)
      ops.push_back({i, std::string(200, 'x')});
    ASSERT_TRUE(ask<std::uint64_t>(
      t.coordinator, submit_atom::value,
      job_submission{"write", priority::normal, std::move(ops), {}}));
  }

  /// Starts an A/B test in `t`, advances `seconds` one at a time (the
  /// arms alternate by window) and analyzes it.
  ab_test_result run_ab(const topology& t, const ab_test_config& cfg,
                        int seconds) {
    auto id = *ask<std::string>(t.optimizer, ab_start_atom::value, cfg);
    for (int i = 0; i < seconds; ++i)
      advance(1s);
    return *ask<ab_test_result>(t.optimizer, ab_analyze_atom::value, id);
  }

  prediction predict(const optimizer_actor& o) {
    std::mt19937_64 rng(5);
    prediction_request req;
    req.op_type = "write";
    req.features = random_features(rng, 60, 60);
    req.target.priority = target_priority::latency;
    auto p = ask<prediction>(o, predict_atom::value, req);
    EXPECT_TRUE(p) << sys.render(p.error());
    return p ? *p : prediction{};
  }
};

} // namespace

TEST_F(optimizer_test, trains_from_samples_and_predicts_with_confidence) {
  auto o = spawn();
  auto untrained = predict(o);
  EXPECT_EQ(untrained.confidence, 0);
  feed(o, 400);
  auto in = *ask<optimizer_insights>(o, insights_atom::value);
  EXPECT_EQ(in.model_scores.at("write.samples_trained"), 400);
  EXPECT_GE(in.model_scores.at("write.latency_r2"), 0.9);
  EXPECT_GE(in.model_scores.at("write.throughput_r2"), 0.9);
  EXPECT_GT(in.feature_importances.at("write.batch_size"),
            in.feature_importances.at("write.cpu_percent"));
  auto p = predict(o);
  EXPECT_EQ(p.op_type, "write");
  EXPECT_EQ(p.model, "krr_rbf");
  EXPECT_GE(p.batch_size, 65u); // the surface's latency optimum is 80
  EXPECT_LE(p.batch_size, 100u);
  EXPECT_GT(p.confidence, 0.5);
  in = *ask<optimizer_insights>(o, insights_atom::value);
  EXPECT_EQ(in.total_predictions, 2u);
  EXPECT_NEAR(in.average_confidence, p.confidence / 2, 1e-12);
  EXPECT_TRUE(mentions(in.recommendations, "model trained on 400 samples"));
}

TEST_F(optimizer_test, a_killed_model_actor_restarts_with_its_last_good_model) {
  auto o = spawn();
  feed(o, 400);
  auto before = predict(o);
  auto model = *ask<model_actor>(o, caf::get_atom::value, std::string{"write"});
  caf::anon_send_exit(model, caf::exit_reason::kill);
  sched.run();
  auto again = *ask<model_actor>(o, caf::get_atom::value, std::string{"write"});
  EXPECT_NE(again.address(), model.address());
  auto after = predict(o);
  EXPECT_EQ(after, before); // the very same model answers
  auto in = *ask<optimizer_insights>(o, insights_atom::value);
  EXPECT_EQ(in.model_scores.at("write.restarts"), 1);
  EXPECT_TRUE(mentions(in.warnings, "restarted with its last good model"));
  // Training goes on in the new actor.
  feed(o, 100, 4);
  in = *ask<optimizer_insights>(o, insights_atom::value);
  EXPECT_EQ(in.model_scores.at("write.samples_trained"), 500);
}

TEST_F(optimizer_test, saved_models_load_at_start) {
  auto first = spawn(dir.string());
  feed(first, 400);
  auto before = predict(first);
  ASSERT_TRUE(std::filesystem::exists(dir / "write.model"));
  auto second = spawn(dir.string());
  auto in = *ask<optimizer_insights>(second, insights_atom::value);
  EXPECT_EQ(in.model_scores.at("write.samples_trained"), 400);
  EXPECT_TRUE(in.warnings.empty());
  auto after = predict(second);
  EXPECT_EQ(after.batch_size, before.batch_size);
  EXPECT_EQ(after.confidence, before.confidence);
}

TEST_F(optimizer_test, a_missing_or_corrupt_model_file_starts_untrained) {
  auto missing = spawn(dir.string());
  auto in = *ask<optimizer_insights>(missing, insights_atom::value);
  EXPECT_TRUE(mentions(in.warnings, "no saved model at"));
  EXPECT_EQ(predict(missing).confidence, 0);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "write.model") << "garbage, not a model";
  auto corrupt = spawn(dir.string());
  in = *ask<optimizer_insights>(corrupt, insights_atom::value);
  EXPECT_TRUE(mentions(in.warnings, "not a batching model file"));
  EXPECT_EQ(predict(corrupt).confidence, 0);
  // It still learns, and replaces the bad file.
  feed(corrupt, 400);
  EXPECT_GT(predict(corrupt).confidence, 0.5);
  auto reloaded = spawn(dir.string());
  in = *ask<optimizer_insights>(reloaded, insights_atom::value);
  EXPECT_TRUE(in.warnings.empty());
}

TEST_F(optimizer_test, ab_tests_record_and_analyze) {
  auto o = spawn();
  auto bad = ask<std::string>(
    o, ab_start_atom::value, ab_test_config{"x", "adaptive", "turbo", 60s, ""});
  ASSERT_FALSE(bad);
  EXPECT_EQ(code_of(bad.error()), error_code::bad_request);
  auto id
    = *ask<std::string>(o, ab_start_atom::value,
                        ab_test_config{"x", "static", "adaptive", 60s, ""});
  EXPECT_EQ(id, "ab-1");
  // 40 samples an arm; the test arm is 10 higher with the same spread.
  for (int i = 0; i < 40; ++i) {
    caf::anon_send(o, ab_record_atom::value, id, false, 100.0 + i % 5);
    caf::anon_send(o, ab_record_atom::value, id, true, 110.0 + i % 5);
  }
  sched.run();
  auto r = *ask<ab_test_result>(o, ab_analyze_atom::value, id);
  EXPECT_EQ(r.control_samples, 40u);
  EXPECT_EQ(r.test_samples, 40u);
  EXPECT_DOUBLE_EQ(r.control_mean, 102);
  EXPECT_DOUBLE_EQ(r.test_mean, 112);
  EXPECT_NEAR(r.improvement_percent, 10 / 1.02, 1e-9);
  EXPECT_LT(r.p_value, 1e-10);
  EXPECT_EQ(r.recommendation, ab_recommendation::adopt);
  auto unknown
    = ask<ab_test_result>(o, ab_analyze_atom::value, std::string{"ab-9"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(code_of(unknown.error()), error_code::unknown_ab_test);
}

// Interleaved A/B in a running topology against a simulated API with a
// 3 requests/s budget and a deep backlog: the static arm carries the write
// type's 50 operations a request, adaptive grows to the cap of 100, so the
// test arm's windows deliver about twice as much. The optimizer must adopt.
TEST_F(optimizer_test, the_batchers_split_traffic_between_the_arms) {
  auto t = notion_topology();
  submit_backlog(t, 60'000);
  advance(30s); // past the pacer's start
  auto r
    = run_ab(t, ab_test_config{"size", "static", "adaptive", 120s, ""}, 125);
  EXPECT_GE(r.control_samples, 30u);
  EXPECT_GE(r.test_samples, 30u);
  EXPECT_GT(r.improvement_percent, 30);
  EXPECT_EQ(r.recommendation, ab_recommendation::adopt);
  std::cout << "interleaved A/B: control " << r.control_mean << " items/s ("
            << r.control_samples << " windows), test " << r.test_mean
            << " items/s (" << r.test_samples << "), +" << r.improvement_percent
            << "%, p " << r.p_value << "\n";
}

// Scoped to one type, only that type's batcher runs the arms: a test of
// the idle read type sees none of the write backlog's windows, one of the
// write type adopts; an unknown type is refused.
TEST_F(optimizer_test, an_ab_test_scoped_to_one_type_leaves_the_others) {
  auto t = notion_topology();
  submit_backlog(t, 60'000);
  advance(30s);
  auto bad = ask<std::string>(
    t.optimizer, ab_start_atom::value,
    ab_test_config{"size", "static", "adaptive", 60s, "nosuch"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(code_of(bad.error()), error_code::bad_request);
  auto r
    = run_ab(t, ab_test_config{"size", "static", "adaptive", 60s, "read"}, 62);
  EXPECT_EQ(r.control_mean, 0); // no read traffic: nothing of the writes'
  EXPECT_EQ(r.test_mean, 0);
  EXPECT_EQ(r.recommendation, ab_recommendation::inconclusive);
  auto w = run_ab(
    t, ab_test_config{"size", "static", "adaptive", 120s, "write"}, 125);
  EXPECT_GE(w.control_samples, 30u);
  EXPECT_GT(w.improvement_percent, 30);
  EXPECT_EQ(w.recommendation, ab_recommendation::adopt);
}

TEST_F(optimizer_test, the_host_trains_a_type_on_demand) {
  auto o = spawn();
  auto none = ask<model_report>(o, train_atom::value, std::string{"write"});
  ASSERT_FALSE(none);
  EXPECT_EQ(code_of(none.error()), error_code::no_model);
  auto unknown = ask<model_report>(o, train_atom::value, std::string{"delete"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(code_of(unknown.error()), error_code::unknown_operation_type);
  feed(o, 30); // fewer than retrain_every (50): no training of its own
  auto r = ask<model_report>(o, train_atom::value, std::string{"write"});
  ASSERT_TRUE(r) << sys.render(r.error());
  EXPECT_TRUE(r->trained);
  EXPECT_EQ(r->samples, 30u);
  EXPECT_TRUE(r->model.empty()); // the bytes stay in the optimizer
  EXPECT_GT(predict(o).confidence, 0);
}

// optimizer.train_every_type (the default): the windows of an `adaptive`
// type train its model too, so its predictions carry a confidence; its
// sizing stays adaptive's.
TEST_F(optimizer_test, every_type_trains_its_model) {
  ASSERT_EQ(runtime_config{}.operation_configs.at("write").strategy,
            strategy_kind::adaptive);
  auto t = notion_topology();
  submit_backlog(t, 30'000);
  for (int i = 0; i < 60; ++i)
    advance(1s);
  auto in = *ask<optimizer_insights>(t.optimizer, insights_atom::value);
  ASSERT_TRUE(in.model_scores.count("write.samples_trained"));
  EXPECT_GE(in.model_scores.at("write.samples_trained"), 20);
  auto m = ask<batching_metrics>(t.batchers.at("write"), metrics_atom::value);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->strategy, strategy_kind::adaptive);
}
