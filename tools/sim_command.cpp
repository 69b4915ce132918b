// `batching sim SCENARIO.yaml`: runs strategies through a scenario in
// virtual time, finds the oracle, and prints a side-by-side table (plus
// JSON and an HTML report on request).

#include <iostream>

#include <boost/json.hpp>

#include "sim/ab.hpp"
#include "sim/report.hpp"
#include "tools/commands.hpp"
#include "tools/json_text.hpp"

namespace batching::cli {

namespace {

/// `--ab CONTROL,TEST`: both arms on the scenario's seed, Welch's t-test
/// over per-second goodput.
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
  boost::json::object o{{"name", r.name},
                        {"control_strategy", r.control_strategy},
                        {"test_strategy", r.test_strategy},
                        {"metric", "goodput per second of arrivals"},
                        {"control_samples", r.control_samples},
                        {"test_samples", r.test_samples},
                        {"control_mean", r.control_mean},
                        {"test_mean", r.test_mean},
                        {"improvement_percent", r.improvement_percent},
                        {"p_value", r.p_value},
                        {"recommendation", to_string(r.recommendation)}};
  if (auto path = parsed.value("--json"))
    if (!write_file(*path,
                    to_json_text(boost::json::object{{"ab", o}}) + "\n")) {
      std::cerr << "batching sim: cannot write " << *path << '\n';
      return exit_failure;
    }
  if (!parsed.has("--quiet"))
    std::cout << "A/B test " << r.name << " (goodput per second, "
              << r.control_samples << " + " << r.test_samples
              << " samples): control " << r.control_mean << ", test "
              << r.test_mean << ", improvement " << r.improvement_percent
              << "%, p = " << r.p_value << ": " << to_string(r.recommendation)
              << '\n';
  return exit_ok;
}

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
     "                     Welch's t-test over per-second goodput; prints\n"
     "                     means, improvement, p-value and adopt | keep |\n"
     "                     inconclusive (fewer than 30 samples an arm or\n"
     "                     p > 0.05)\n\n"
     "Example:\n"
     "  batching sim sim/scenarios/notion_steady.yaml --report steady.html\n",
     run_sim},
  };
}

} // namespace batching::cli
