// `batching sim SCENARIO.yaml`: runs strategies through a scenario in
// virtual time, finds the oracle, and prints a side-by-side table (plus
// JSON and an HTML report on request).

#include <iostream>
#include <stdexcept>

#include <boost/json.hpp>

#include "config/loader.hpp"
#include "runtime/system/dashboard_json.hpp"
#include "sim/ab.hpp"
#include "sim/check.hpp"
#include "sim/report.hpp"
#include "tools/commands.hpp"
#include "tools/json_text.hpp"

namespace batching::cli {

namespace {

/// `--ab CONTROL,TEST`: both arms on the scenario's seed, Welch's t-test
/// over batch means of per-second goodput.
int run_ab(const sim::scenario& sc, const std::string& arms,
           const arguments& parsed) {
  auto comma = arms.find(',');
  auto control = sim::find_strategy(arms.substr(0, comma));
  auto test = comma == std::string::npos
                ? std::nullopt
                : sim::find_strategy(arms.substr(comma + 1));
  if (!control || !test)
    return usage_error("sim", "--ab takes CONTROL,TEST, two of: "
                                + sim::strategy_choices());
  auto out = sim::run_ab_test(sc, *control, *test);
  const auto& r = out.result;
  auto o = to_json(r).as_object();
  o.erase("test_id");
  o["metric"] = "goodput per second of arrivals";
  if (auto path = parsed.value("--json"))
    if (!write_file(*path,
                    to_json_text(boost::json::object{{"ab", o}}) + "\n")) {
      std::cerr << "batching sim: cannot write " << *path << '\n';
      return exit_failure;
    }
  if (!parsed.has("--quiet"))
    std::cout << "A/B test " << r.name << " (goodput per second, "
              << r.control_samples << " + " << r.test_samples << " samples in "
              << r.control_batches << " + " << r.test_batches
              << " batch means): control " << format_fixed(r.control_mean, 1)
              << ", test " << format_fixed(r.test_mean, 1) << " items/s, "
              << (r.improvement_percent >= 0 ? "+" : "")
              << format_fixed(r.improvement_percent, 1)
              << "%, p = " << format_p(r.p_value) << ": "
              << to_string(r.recommendation) << '\n';
  return exit_ok;
}

} // namespace

performance_targets_config shipped_targets() {
  return config::load(config::from_paths(
                        config::default_files(config::default_directory())))
    .config.performance_targets;
}

namespace {

int run_sim(const std::vector<std::string>& args) {
  const std::string cmd = "sim";
  arguments parsed{args,
                   {"--no-oracle", "--no-timing", "--no-series", "--quiet"},
                   {"--strategies", "--seed", "--json", "--report", "--ab"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  if (parsed.positional().size() != 1)
    return usage_error(cmd, "expected one scenario file");
  std::vector<config::diagnostic> errors;
  auto sc = sim::load_scenario({parsed.positional()[0], {}, true}, errors);
  if (auto v = parsed.value("--seed")) {
    try {
      sc.seed = std::stoull(*v);
    } catch (const std::exception&) {
      return usage_error(cmd, "--seed takes a whole number");
    }
  }
  std::vector<std::string> names = sc.strategies;
  if (auto v = parsed.value("--strategies")) {
    names.clear();
    if (*v != "all")
      for (const auto& name : split_list(*v))
        if (!name.empty())
          names.push_back(name);
  }
  std::vector<sim::strategy_spec> strategies;
  bool want_oracle = !parsed.has("--no-oracle");
  if (names.empty())
    strategies = sim::known_strategies();
  for (const auto& name : names) {
    if (name == "oracle")
      continue;
    if (auto s = sim::find_strategy(name))
      strategies.push_back(*s);
    else
      errors.push_back({"--strategies", 0, 0,
                        "unknown strategy '" + name + "' (expected one of: "
                          + sim::strategy_choices() + ", or all)"});
  }
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  if (auto ab = parsed.value("--ab"))
    return run_ab(sc, *ab, parsed);
  sim::sim_report rep;
  rep.sc = sc;
  rep.timing = !parsed.has("--no-timing");
  rep.targets = shipped_targets();
  progress_line bar;
  if (want_oracle)
    rep.oracle = sim::find_oracle(sc, [&](std::size_t done, std::size_t all) {
      bar.show("oracle sweep " + std::to_string(done) + "/"
                 + std::to_string(all),
               static_cast<double>(done), static_cast<double>(all));
    });
  sim::run_options opts;
  opts.series = !parsed.has("--no-series") || parsed.value("--report");
  for (std::size_t i = 0; i < strategies.size(); ++i) {
    opts.progress = [&](double now, double total, const sim::series_point&) {
      bar.show(strategies[i].name + " (" + std::to_string(i + 1) + "/"
                 + std::to_string(strategies.size()) + ")",
               now, total);
    };
    rep.results.push_back(sim::run_strategy(sc, strategies[i], opts));
  }
  bar.clear();
  sim::compare_with_oracle(rep);
  if (auto path = parsed.value("--json"))
    if (!write_file(*path, to_json_text(sim::to_json(rep)) + "\n")) {
      std::cerr << "batching sim: cannot write " << *path << '\n';
      return exit_failure;
    }
  if (auto path = parsed.value("--report"))
    if (!write_file(*path, sim::to_html(rep))) {
      std::cerr << "batching sim: cannot write " << *path << '\n';
      return exit_failure;
    }
  if (!parsed.has("--quiet")) {
    std::cout << "scenario " << sc.name << " (seed " << sc.seed << ", "
              << sc.duration_s << " s, SLO p99 <= " << sc.slo.p99_latency_ms
              << " ms)\n"
              << sim::to_table(rep);
    if (auto path = parsed.value("--report"))
      std::cout << "report: " << *path << '\n';
  }
  return exit_ok;
}

int run_check(const std::vector<std::string>& args) {
  const std::string cmd = "check";
  arguments parsed{
    args, {"--quiet", "--slo"}, {"--cases", "--seed", "--strategies", "--out"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  if (parsed.positional().size() != 1)
    return usage_error(cmd, "expected one scenario file");
  sim::check_options opts;
  // A whole number and nothing else; throws otherwise.
  auto whole = [](const std::string& text) {
    std::size_t used = 0;
    auto n = std::stoull(text, &used);
    if (used != text.size())
      throw std::invalid_argument{text};
    return n;
  };
  try {
    if (auto v = parsed.value("--cases")) {
      auto n = whole(*v);
      if (n < 1 || n > 100'000)
        throw std::out_of_range{*v};
      opts.cases = static_cast<int>(n);
    }
  } catch (const std::exception&) {
    return usage_error(cmd, "--cases takes a whole number from 1 to 100000");
  }
  try {
    if (auto v = parsed.value("--seed"))
      opts.seed = whole(*v);
  } catch (const std::exception&) {
    return usage_error(cmd, "--seed takes a whole number");
  }
  if (auto v = parsed.value("--strategies"))
    for (const auto& name : split_list(*v))
      if (!name.empty())
        opts.strategies.push_back(name);
  std::vector<config::diagnostic> errors;
  auto sc = sim::load_scenario({parsed.positional()[0], {}, true}, errors);
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  opts.require_slo = parsed.has("--slo");
  bool quiet = parsed.has("--quiet");
  progress_line bar;
  if (!quiet)
    opts.progress = [&](const std::string& what) { bar.show(what); };
  sim::check_outcome out;
  try {
    out = sim::check_scenario(sc, opts);
  } catch (const std::invalid_argument& e) {
    bar.clear();
    return usage_error(cmd, std::string{"--strategies: "} + e.what());
  }
  bar.clear();
  if (out.passed) {
    std::cout << "check " << sc.name << ": " << out.cases
              << " cases passed (seed " << opts.seed << ")\n";
    return exit_ok;
  }
  std::cout << "check " << sc.name << ": FAILED after " << out.cases
            << " passing cases (seed " << opts.seed << "): " << out.failure
            << '\n';
  if (out.counterexample.workload.empty())
    return exit_failure; // RapidCheck stopped before any case ran
  auto yaml = sim::to_yaml(out.counterexample);
  if (auto path = parsed.value("--out")) {
    if (!write_file(*path, yaml)) {
      std::cerr << "batching check: cannot write " << *path << '\n';
      return exit_failure;
    }
    std::cout << "smallest failing scenario (" << out.shrinks
              << " shrinking steps) written to " << *path
              << "; replay: batching sim " << *path << " --no-oracle\n";
  } else {
    std::cout << "smallest failing scenario (" << out.shrinks
              << " shrinking steps; replay it with batching sim FILE "
                 "--no-oracle):\n"
              << yaml;
  }
  return exit_failure;
}

} // namespace

std::vector<command> sim_commands() {
  return {
    {"sim", "compare strategies on a scenario in virtual time",
     "Usage: batching sim SCENARIO.yaml [--strategies LIST|all] [--seed N]\n"
     "                    [--json FILE] [--report FILE.html] [--no-oracle]\n"
     "                    [--no-timing] [--no-series] [--quiet]\n\n"
     "Runs the real runtime (coordinator, batchers, gate) against the\n"
     "scenario's simulated backend on CAF's deterministic scheduler, once\n"
     "per strategy, and sweeps static configurations for the oracle (the\n"
     "best one a careful operator would pick with hindsight). Prints one\n"
     "row per strategy: goodput, goodput vs the oracle, 429 rate, item\n"
     "latency p50/p99, SLO, lost and duplicated operations, and the\n"
     "convergence time after each scheduled change. docs/simulation.md\n"
     "explains the scenario keys and every metric.\n\n"
     "Options:\n"
     "  --strategies LIST  comma-separated names, or all (default: the\n"
     "                     scenario's list, else all)\n"
     "  --seed N           override the scenario's seed\n"
     "  --json FILE        write the results as JSON\n"
     "  --report FILE      write a self-contained HTML report with charts\n"
     "  --no-oracle        skip the oracle sweep (goodput_vs_oracle is 0)\n"
     "  --no-timing        leave out wall_s and sim_items_per_wall_s, so the\n"
     "                     same seed gives byte-identical JSON\n"
     "  --no-series        leave the 1 s time series out of the JSON\n"
     "  --quiet            print nothing (with --json/--report)\n"
     "  --ab CONTROL,TEST  an A/B test instead: both arms on the same seed,\n"
     "                     Welch's t-test over batch means of per-second\n"
     "                     goodput (about ten an arm: seconds of one run\n"
     "                     are correlated); prints means, improvement,\n"
     "                     p-value and adopt | keep | inconclusive (fewer\n"
     "                     than 30 samples an arm or p > 0.05)\n\n"
     "Example:\n"
     "  batching sim sim/scenarios/notion_steady.yaml --report steady.html\n",
     run_sim},
    {"check", "property-based runs around a scenario: faults, outages, jitter",
     "Usage: batching check SCENARIO.yaml [--cases N] [--seed S] [--slo]\n"
     "                      [--strategies LIST] [--out FILE] [--quiet]\n\n"
     "Runs N cases of the scenario, each changed at random (its seed; every\n"
     "stream's rate, burst and job size by up to +-50%; up to 10 points\n"
     "more errors; up to two outages of 1-60 s failing or throttling every\n"
     "request; a strategy from the list), on the real runtime in virtual\n"
     "time, and checks the invariants: no operation lost, none accepted\n"
     "twice by the backend, no request over the item or byte cap, every\n"
     "operation accounted for, and (adaptive, ml) none left unfinished\n"
     "where demand is at most half of what the budget carries. On a\n"
     "failure, RapidCheck shrinks the changes towards none and the smallest\n"
     "failing scenario is printed (or written to --out) as YAML that\n"
     "`batching sim` replays; the exit code is 1. The same scenario, cases\n"
     "and seed give the same verdict. docs/simulation.md shows it in CI.\n\n"
     "Options:\n"
     "  --cases N          cases to run (default 20)\n"
     "  --seed S           RapidCheck's seed (default 1)\n"
     "  --strategies LIST  comma-separated strategies to draw from (default:\n"
     "                     the scenario's list, else adaptive)\n"
     "  --slo              also require the scenario's SLO (item latency\n"
     "                     p99) in every case\n"
     "  --out FILE         write the smallest failing scenario there\n"
     "  --quiet            no progress line\n\n"
     "Exit codes: 0 every case passed, 1 a case failed, 2 bad arguments or\n"
     "scenario.\n\n"
     "Example:\n"
     "  batching check sim/scenarios/notion_steady.yaml --cases 10 --seed 7\n",
     run_check},
  };
}

} // namespace batching::cli
