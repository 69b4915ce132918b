// The simulator: scenario files (shipped and broken), the virtual-time
// runner's invariants and determinism on every shipped scenario, and a
// property over random scenarios.

#include <filesystem>
#include <limits>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/check.hpp"
#include "sim/report.hpp"

using namespace batching;
using namespace batching::sim;

namespace {

std::string scenario_dir() {
  return std::string{BATCHING_SOURCE_DIR} + "/sim/scenarios";
}

scenario load(const std::string& path) {
  std::vector<config::diagnostic> errors;
  auto sc = load_scenario({path, {}, true}, errors);
  for (const auto& e : errors)
    ADD_FAILURE() << e.to_string();
  return sc;
}

std::vector<std::string> shipped() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(scenario_dir()))
    if (e.path().extension() == ".yaml")
      names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// A shortened copy: the first 90 s of arrivals (changes after that fall
/// away), 60 s to drain.
scenario shortened(scenario sc) {
  sc.duration_s = std::min(sc.duration_s, 150.0);
  sc.drain_s = 60;
  return sc;
}

void expect_invariants(const run_result& r) {
  EXPECT_EQ(r.lost, 0u) << r.strategy;
  EXPECT_EQ(r.duplicated, 0u) << r.strategy;
  EXPECT_EQ(r.oversized, 0u) << r.strategy;
  EXPECT_GT(r.submitted, 0u) << r.strategy;
  EXPECT_EQ(r.succeeded + r.failed + r.unfinished, r.submitted) << r.strategy;
}

} // namespace

TEST(scenario_file, every_shipped_scenario_loads) {
  auto names = shipped();
  for (auto expected :
       {"db_saturation", "diurnal", "latency_shift", "notion_burst_10x",
        "notion_limit_drop", "notion_low_traffic", "notion_outage",
        "notion_shared_budget", "notion_steady"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end())
      << expected;
  for (const auto& n : names) {
    auto sc = load(scenario_dir() + "/" + n + ".yaml");
    EXPECT_EQ(sc.name, n);
    EXPECT_FALSE(sc.workload.empty());
  }
}

TEST(scenario_file, problems_are_reported_with_positions) {
  auto path
    = std::string{BATCHING_TEST_DATA_DIR} + "/sim/fixtures/bad_scenario.yaml";
  std::vector<config::diagnostic> errors;
  load_scenario({path, {}, true}, errors);
  std::vector<std::string> text;
  for (const auto& e : errors)
    text.push_back(e.to_string());
  std::vector<std::string> expected{
    path + ":2:13: error: duration_s: -5 is out of range [1, 1000000]",
    path
      + ":4:9: error: backend.kind: unknown kind 'rate_limited' (expected "
        "one of: rate_limited_api, database); did you mean "
        "'rate_limited_api'?",
    path
      + ":10:5: error: unknown key 'arival' in workload[0]; did you mean "
        "'arrival'?",
    path
      + ":16:22: error: actor_deaths[2].actor: unknown actor 'optimizer' "
        "(expected one of: batcher, gate, executor)",
    path + ": error: workload[0].payload_bytes: min is larger than max",
    path + ": error: backend.outages[0]: from_s must be before to_s",
    path
      + ": error: actor_deaths[0].op_type: only a batcher has one (a gate "
        "serves the backend)",
    path
      + ": error: actor_deaths[1].op_type: no workload stream of type "
        "'read'",
    path
      + ": error: strategies: unknown strategy 'netflix_aimdd' (expected "
        "one of: "
      + strategy_choices() + ")",
  };
  EXPECT_EQ(text, expected);
}

class shipped_scenario : public ::testing::TestWithParam<std::string> {};

// Every shipped scenario, shortened, with our default, the learning
// strategy, the seed's baseline and the Clipper peer: nothing lost or
// duplicated, no request over the caps, and the JSON carries the
// documented fields (ml also what its optimizer learned).
TEST_P(shipped_scenario, runs_with_the_invariants_and_json_fields) {
  auto sc = shortened(load(scenario_dir() + "/" + GetParam() + ".yaml"));
  sim_report rep;
  rep.sc = sc;
  for (auto name : {"adaptive", "ml", "static", "clipper"}) {
    rep.results.push_back(run_strategy(sc, *find_strategy(name)));
    expect_invariants(rep.results.back());
  }
  auto json = to_json(rep).as_object();
  for (auto key : {"scenario", "seed", "duration_s", "slo_p99_ms", "results"})
    EXPECT_TRUE(json.contains(key)) << key;
  for (const auto& r : json.at("results").as_array()) {
    const auto& o = r.as_object();
    for (auto key :
         {"strategy", "submitted", "succeeded", "failed", "lost", "duplicated",
          "requests", "throttled", "throttle_rate", "goodput",
          "goodput_vs_oracle", "latency_ms", "slo_met", "convergence_s",
          "wall_s", "sim_items_per_wall_s", "series"})
      EXPECT_TRUE(o.contains(key)) << key;
    for (auto key : {"p50", "p95", "p99"})
      EXPECT_TRUE(o.at("latency_ms").as_object().contains(key)) << key;
    EXPECT_EQ(o.contains("optimizer"), o.at("strategy").as_string() == "ml");
  }
}

INSTANTIATE_TEST_SUITE_P(all, shipped_scenario, ::testing::ValuesIn(shipped()),
                         [](const auto& info) { return info.param; });

TEST(sim_report, a_change_never_converged_is_valid_json) {
  // Adaptation after a change that never converged is infinitely long; its
  // verdict was written as `inf`, which no JSON reader takes
  // (tools/sim_benchmarks.sh failed on six shipped scenarios' JSON).
  std::vector<target_verdict> v{{"adaptation_seconds", false, 5,
                                 std::numeric_limits<double>::infinity(),
                                 target_status::fail}};
  auto text = boost::json::serialize(to_json(v));
  boost::json::error_code ec;
  auto parsed = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << text;
  const auto& o = parsed.as_array().at(0).as_object();
  EXPECT_TRUE(o.at("measured").is_null());
  EXPECT_EQ(o.at("status").as_string(), "fail");
}

TEST(sim_runner, the_same_seed_gives_the_same_json) {
  auto sc = shortened(load(scenario_dir() + "/notion_shared_budget.yaml"));
  auto once = [&] {
    sim_report rep;
    rep.sc = sc;
    rep.timing = false;
    rep.results.push_back(run_strategy(sc, *find_strategy("adaptive")));
    rep.results.push_back(run_strategy(sc, *find_strategy("netflix_vegas")));
    return boost::json::serialize(to_json(rep));
  };
  auto first = once();
  EXPECT_EQ(first, once());
  sc.seed += 1;
  EXPECT_NE(first, once());
}

TEST(sim_runner, the_oracle_finds_a_static_configuration_within_the_budget) {
  auto sc = load(scenario_dir() + "/notion_steady.yaml");
  sc.duration_s = 60;
  sc.drain_s = 30;
  auto o = find_oracle(sc);
  EXPECT_GT(o.candidates, 30u);
  EXPECT_EQ(o.config.batch_size, 100u);
  EXPECT_LE(o.result.throttle_rate, 0.01);
  EXPECT_TRUE(o.result.slo_met);
  // The hidden budget is 3 requests/s of 100 items.
  EXPECT_LE(o.result.goodput, 300);
  sim_report rep;
  rep.sc = sc;
  rep.oracle = o;
  auto json = to_json(rep).as_object();
  ASSERT_TRUE(json.contains("oracle"));
  for (auto key :
       {"batch_size", "max_in_flight", "linger_ms", "request_rate", "goodput"})
    EXPECT_TRUE(json.at("oracle").as_object().contains(key)) << key;
}

// Random scenarios (budgets, caps, latencies, errors, outages, workloads):
// every strategy loses and duplicates nothing and never exceeds a cap, a
// quarter of the runs are repeated and must give the same figures; and
// the default strategy, once the learning is over (the last 300 s of a
// 600 s run without faults), keeps 429s under 1%.
RC_GTEST_PROP(sim_property, random_scenarios_keep_the_invariants, ()) {
  scenario sc;
  sc.name = "random";
  sc.seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  sc.duration_s = 600;
  sc.drain_s = 120;
  auto& be = sc.backend;
  be.budget
    = *rc::gen::element(budget_kind::token_bucket, budget_kind::fixed_window);
  be.params.rate = *rc::gen::inRange(1, 20);
  be.params.burst = *rc::gen::inRange(1, 10);
  be.params.window_requests = be.params.rate * 60;
  be.max_items_per_request = *rc::gen::inRange(5, 200);
  be.max_payload_bytes = *rc::gen::inRange(20'000, 500'000);
  be.params.base_latency_ms = *rc::gen::inRange(5, 500);
  be.params.per_item_latency_ms = *rc::gen::inRange(0, 5);
  // Half the cases check the default strategy's steady state (no faults);
  // the others run any strategy through errors and outages.
  bool steady_check = *rc::gen::arbitrary<bool>();
  be.params.error_rate = steady_check ? 0 : *rc::gen::inRange(0, 10) / 100.0;
  be.params.late_answer_rate
    = steady_check ? 0 : *rc::gen::inRange(0, 6) / 100.0;
  if (!steady_check && *rc::gen::arbitrary<bool>())
    be.outages.push_back({50, 50.0 + *rc::gen::inRange(1, 40),
                          *rc::gen::element(batch_status::retryable_failure,
                                            batch_status::throttled)});
  auto streams = *rc::gen::inRange(1, 3);
  for (int i = 0; i < streams; ++i) {
    workload_plan w;
    w.op_type = i == 0 ? "write" : "read";
    w.arrival = *rc::gen::element(arrival_kind::constant, arrival_kind::poisson,
                                  arrival_kind::bursts);
    w.rate = *rc::gen::inRange(1, 400);
    w.burst_items = *rc::gen::inRange(0, 500);
    w.job_size = *rc::gen::inRange(1, 40);
    w.users = *rc::gen::inRange(1, 4);
    w.payload_bytes = {10, static_cast<double>(*rc::gen::inRange(10, 2'000))};
    sc.workload.push_back(w);
  }
  std::string name = steady_check ? "adaptive"
                                  : *rc::gen::element<std::string>(
                                    "adaptive", "ml", "static", "netflix_aimd",
                                    "aws_adaptive", "vector_arc", "clipper");
  run_options opts;
  auto r = run_strategy(sc, *find_strategy(name), opts);
  // A failure shows the scenario, ready for `batching sim` (strategy: name).
  RC_LOG() << "strategy " << name << ", scenario:\n" << to_yaml(sc);
  // The invariants `batching check` asserts (sim/check.hpp): nothing lost
  // (against the backend's record of ids too) or finished twice, what the
  // backend accepted again only what it had accepted in an answer that came
  // too late or never, no request over a cap, everything accounted for, and
  // ours finish everything where demand leaves room (at most half of what
  // the budget carries) and answers came in time.
  auto why = broken_invariant(sc, r, is_ours(name));
  RC_LOG() << why << "\n";
  RC_ASSERT(why.empty());
  if (be.params.late_answer_rate == 0)
    RC_ASSERT(r.duplicated == 0u);
  RC_TAG(r.late_answers > 0 ? "late answers" : "answers in time");
  if (is_ours(name) && r.late_answers == 0 && leaves_room(sc, r.submitted))
    RC_TAG("room to finish");
  if (*rc::gen::inRange(0, 4) == 0) { // determinism by seed, on a sample
    auto again = run_strategy(sc, *find_strategy(name), opts);
    RC_ASSERT(again.submitted == r.submitted);
    RC_ASSERT(again.succeeded == r.succeeded);
    RC_ASSERT(again.requests == r.requests);
    RC_ASSERT(again.throttled == r.throttled);
    RC_ASSERT(again.p99_ms == r.p99_ms);
  }
  if (steady_check) {
    double requests = 0, throttled = 0;
    for (const auto& p : r.series)
      if (p.t_s > sc.duration_s - 300 && p.t_s <= sc.duration_s) {
        requests += p.requests;
        throttled += p.throttled;
      }
    RC_TAG("converged throttle check");
    RC_LOG() << to_string(be.budget) << " rate " << be.params.rate << " burst "
             << be.params.burst << " cap " << be.max_items_per_request
             << " bytes " << be.max_payload_bytes << " latency "
             << be.params.base_latency_ms << "+"
             << be.params.per_item_latency_ms << "/item; streams "
             << sc.workload.size() << " first rate " << sc.workload[0].rate
             << " " << to_string(sc.workload[0].arrival) << " burst "
             << sc.workload[0].burst_items << "; 429s " << throttled << "/"
             << requests << "\n";
    RC_ASSERT(requests == 0 || throttled / requests < 0.01);
  }
}

// -- batching check (sim/check.hpp) -----------------------------------------

TEST(scenario_yaml, every_shipped_scenario_reads_back_the_same) {
  for (const auto& name : shipped()) {
    auto sc = load(scenario_dir() + "/" + name + ".yaml");
    auto yaml = to_yaml(sc);
    std::vector<config::diagnostic> errors;
    auto again = load_scenario({name + " (written)", yaml, false}, errors);
    for (const auto& e : errors)
      ADD_FAILURE() << name << ": " << e.to_string() << "\n" << yaml;
    EXPECT_EQ(to_yaml(again), yaml) << name;
  }
}

TEST(check, a_shipped_scenario_keeps_the_invariants_under_faults) {
  auto sc = shortened(load(scenario_dir() + "/notion_outage.yaml"));
  check_options opts;
  opts.cases = 6;
  opts.seed = 11;
  opts.strategies = {"adaptive", "static"};
  std::vector<std::string> seen;
  opts.progress = [&](const std::string& what) { seen.push_back(what); };
  auto out = check_scenario(sc, opts);
  EXPECT_TRUE(out.passed) << out.failure << "\n" << to_yaml(out.counterexample);
  EXPECT_EQ(out.cases, 6);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].rfind("case 1/6 (", 0), 0u) << seen[0];
}

TEST(check, a_failure_shrinks_to_a_scenario_that_replays_it) {
  // notion_steady runs close to its budget: with the SLO required, some
  // perturbation breaks it. The counterexample is the smallest one found,
  // replays the failure with `batching sim`, and the same seed finds it
  // again.
  auto sc = load(scenario_dir() + "/notion_steady.yaml");
  check_options opts;
  opts.cases = 20;
  opts.seed = 1;
  opts.require_slo = true;
  auto out = check_scenario(sc, opts);
  ASSERT_FALSE(out.passed);
  EXPECT_NE(out.failure.find("over the SLO"), std::string::npos) << out.failure;
  const auto& cx = out.counterexample;
  ASSERT_EQ(cx.strategies, std::vector<std::string>{"adaptive"});
  EXPECT_LE(cx.backend.outages.size(), 2u);
  EXPECT_GE(out.shrinks, 1);
  // What the YAML says is what failed.
  std::vector<config::diagnostic> errors;
  auto replayed = load_scenario({"cx", to_yaml(cx), false}, errors);
  ASSERT_TRUE(errors.empty());
  auto r = run_strategy(replayed, *find_strategy("adaptive"));
  EXPECT_FALSE(r.slo_met);
  EXPECT_GT(r.p99_ms, sc.slo.p99_latency_ms);
  auto again = check_scenario(sc, opts);
  EXPECT_EQ(again.failure, out.failure);
  EXPECT_EQ(to_yaml(again.counterexample), to_yaml(cx));
}

TEST(check, invariants_name_what_broke) {
  scenario sc;
  run_result r;
  r.submitted = 10;
  r.succeeded = 10;
  EXPECT_EQ(broken_invariant(sc, r, true), "");
  r.lost = 1;
  EXPECT_EQ(broken_invariant(sc, r, true), "1 operations lost");
  r.lost = 0;
  r.duplicated = 2;
  EXPECT_NE(broken_invariant(sc, r, true).find("accepted twice"),
            std::string::npos);
  r.duplicated = 0;
  r.oversized = 1;
  EXPECT_NE(broken_invariant(sc, r, true).find("over the item or byte cap"),
            std::string::npos);
  r.oversized = 0;
  r.succeeded = 9;
  EXPECT_NE(broken_invariant(sc, r, true).find("unaccounted"),
            std::string::npos);
  // Unfinished work breaks an invariant only for ours, and only where the
  // budget leaves room: 3 requests/s of 100 items for 120 s carries 36,000.
  r.unfinished = 1;
  sc.workload.push_back({});
  sc.workload[0].payload_bytes = {200, 2000};
  EXPECT_TRUE(leaves_room(sc, 10));
  EXPECT_FALSE(leaves_room(sc, 18'001));
  EXPECT_NE(broken_invariant(sc, r, true).find("unfinished"),
            std::string::npos);
  EXPECT_EQ(broken_invariant(sc, r, false), "");
  sc.backend.budget = budget_kind::concurrency;
  EXPECT_FALSE(leaves_room(sc, 10));
  // Kills: duplicates up to what was in flight at them; every one restarted.
  r.unfinished = 0;
  r.succeeded = 10;
  r.duplicated = 2;
  r.exposed_items = 2;
  r.actor_deaths = 2;
  r.actor_restarts = 2;
  EXPECT_EQ(broken_invariant(sc, r, true), "");
  r.actor_restarts = 1;
  EXPECT_EQ(broken_invariant(sc, r, true), "2 actors killed, only 1 restarted");
}

TEST(sim_runner, killed_actors_are_restarted_and_nothing_is_lost) {
  // Every kind of kill during a run near its budget: the supervisor
  // restarts each, every operation succeeds once, and the backend sees
  // twice at most what was in flight at the kills.
  auto sc = shortened(load(scenario_dir() + "/notion_steady.yaml"));
  sc.actor_deaths = {{10, supervised_role::batcher, "write"},
                     {20, supervised_role::gate, ""},
                     {20, supervised_role::executor, ""},
                     {30, supervised_role::batcher, ""}};
  auto r = run_strategy(sc, *find_strategy("adaptive"));
  // The last kill: every batcher, of both configured types (read, write).
  EXPECT_EQ(r.actor_deaths, 5u);
  EXPECT_EQ(r.actor_restarts, 5u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.unfinished, 0u);
  EXPECT_EQ(r.succeeded, r.submitted);
  EXPECT_LE(r.duplicated, r.exposed_items);
  EXPECT_EQ(broken_invariant(sc, r, true), "");
  // Replays the same.
  auto again = run_strategy(sc, *find_strategy("adaptive"));
  EXPECT_EQ(again.succeeded, r.succeeded);
  EXPECT_EQ(again.duplicated, r.duplicated);
}
