// `batching demo`: the seed's maritime insurance scenario through the real
// runtime against the simulated Notion-like backend, in real time (at most
// 30 s), with a live progress line; then a summary against the seed's
// static baseline (the same scenario and seed, in virtual time) and an
// HTML report.

#include <iostream>
#include <unistd.h>

#include "runtime/policy/text.hpp"
#include "sim/report.hpp"
#include "tools/commands.hpp"

namespace batching::cli {

namespace {

int run_demo(const std::vector<std::string>& args) {
  const std::string cmd = "demo";
  arguments parsed{args, {}, {"--scenario", "--report", "--strategy"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  auto path = parsed.value("--scenario")
                .value_or(sim::shipped_scenario_path("maritime_demo"));
  std::vector<config::diagnostic> errors;
  auto sc = sim::load_scenario({path, {}, true}, errors);
  auto strategy
    = sim::find_strategy(parsed.value("--strategy").value_or("adaptive"));
  if (!strategy)
    errors.push_back(
      {"--strategy", 0, 0,
       "unknown strategy (expected one of: " + sim::strategy_choices() + ")"});
  if (sc.duration_s + sc.drain_s > 30)
    errors.push_back({path, 0, 0,
                      "the demo runs in real time for at most 30 s "
                      "(duration_s + drain_s)"});
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  auto report_path = parsed.value("--report").value_or("batching-demo.html");
  std::cout << "maritime insurance demo: " << sc.name << ", " << sc.duration_s
            << " s in real time against a Notion-like API "
            << "(the runtime learns its budget)\n";
  bool tty = isatty(1) != 0;
  std::uint64_t throttled = 0;
  sim::run_options opts;
  opts.real_time = true;
  opts.progress = [&](double t, double, const sim::series_point& p) {
    throttled += static_cast<std::uint64_t>(p.throttled);
    std::string sizes;
    for (const auto& [type, size] : p.batch_size) {
      sizes += sizes.empty() ? "" : " ";
      sizes += type;
      sizes += '=';
      sizes += std::to_string(size);
    }
    std::cout << (tty ? "\r\033[K" : "") << "  " << t << " s | batch " << sizes
              << " | goodput " << p.goodput << "/s | queued " << p.queued
              << " | 429s " << throttled << (tty ? "" : "\n") << std::flush;
  };
  sim::sim_report rep;
  rep.sc = sc;
  rep.results.push_back(sim::run_strategy(sc, *strategy, opts));
  if (tty)
    std::cout << '\n';
  rep.results.push_back(sim::run_strategy(sc, *sim::find_strategy("static")));
  rep.results.back().strategy = "static (seed baseline, virtual time)";
  const auto& ours = rep.results[0];
  const auto& base = rep.results[1];
  std::cout << "\n" << sim::to_table(rep);
  auto ratio = base.goodput > 0 ? ours.goodput / base.goodput : 0;
  std::cout << "\n"
            << ours.strategy << ": " << format_fixed(ours.goodput, 1)
            << " operations/s vs the static baseline's "
            << format_fixed(base.goodput, 1) << " (x" << format_fixed(ratio, 2)
            << "), 429s " << format_fixed(100 * ours.throttle_rate, 2)
            << "% vs " << format_fixed(100 * base.throttle_rate, 2) << "%, p99 "
            << format_fixed(ours.p99_ms, 0) << " ms vs "
            << format_fixed(base.p99_ms, 0) << " ms; lost " << ours.lost
            << ".\n";
  if (!write_file(report_path, sim::to_html(rep))) {
    std::cerr << "batching demo: cannot write " << report_path << '\n';
    return exit_failure;
  }
  std::cout << "report: " << report_path << '\n';
  return exit_ok;
}

} // namespace

std::vector<command> demo_commands() {
  return {
    {"demo", "the maritime insurance example, live, against a simulated API",
     "Usage: batching demo [--scenario FILE.yaml] [--strategy NAME]\n"
     "                     [--report FILE.html]\n\n"
     "Runs the seed's maritime insurance scenario (policy validations as\n"
     "reads, claim updates as writes, one Notion-like budget) through the\n"
     "real runtime in real time (at most 30 s) with a live progress line:\n"
     "elapsed time, batch size per type, goodput, queued operations and\n"
     "429s. Then compares it with the seed's static baseline on the same\n"
     "scenario and seed and writes an HTML report (default\n"
     "batching-demo.html).\n",
     run_demo},
  };
}

} // namespace batching::cli
