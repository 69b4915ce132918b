// `batching demo`: the seed's maritime insurance scenario through the real
// runtime against the simulated Notion-like backend, in real time (at most
// 30 s), with a live progress line; then a summary against the seed's
// static baseline (the same scenario and seed, in virtual time) and an
// HTML report.

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <unistd.h>

#include "runtime/policy/text.hpp"
#include "sim/report.hpp"
#include "tools/commands.hpp"

namespace batching::cli {

namespace {

/// "+4.2%" / "-3.0%": a change for people.
std::string signed_percent(double change) {
  return (change >= 0 ? "+" : "") + format_fixed(100 * change, 1) + "%";
}

/// The median of `value` over the seconds where `busy` holds (0 if none).
double
median_over(const sim::run_result& r,
            const std::function<bool(const sim::series_point&)>& busy,
            const std::function<double(const sim::series_point&)>& value) {
  std::vector<double> xs;
  for (const auto& p : r.series)
    if (busy(p))
      xs.push_back(value(p));
  if (xs.empty())
    return 0;
  std::nth_element(xs.begin(), xs.begin() + xs.size() / 2, xs.end());
  return xs[xs.size() / 2];
}

/// The live part in one sentence: what ours did better and why.
std::string live_summary(const sim::run_result& ours,
                         const sim::run_result& base) {
  auto busy = [](const sim::series_point& p) { return p.requests > 0; };
  auto pace = median_over(ours, busy, [](auto& p) { return p.request_rate; });
  std::ostringstream out;
  out << ours.strategy << ": "
      << signed_percent(base.goodput > 0 ? ours.goodput / base.goodput - 1 : 0)
      << " goodput (" << format_fixed(ours.goodput, 1) << " vs "
      << format_fixed(base.goodput, 1) << " operations/s), "
      << format_fixed(100 * ours.throttle_rate, 1)
      << "% of requests throttled instead of "
      << format_fixed(100 * base.throttle_rate, 1) << "%, p99 "
      << format_fixed(ours.p99_ms / 1000, 1) << " s vs "
      << format_fixed(base.p99_ms / 1000, 1) << " s, lost " << ours.lost
      << ": it paced requests at the ~" << format_fixed(pace, 1)
      << "/s the API allowed instead of sending whenever a batch was ready"
      << " (this traffic stays below the budget, so goodput differs little)"
      << ".\n";
  return out.str();
}

/// When the import's queue (the scenario's first stream) was first empty
/// after it arrived, in seconds; nothing if never.
std::optional<double> import_done_s(const sim::scenario& sc,
                                    const sim::run_result& r) {
  const auto& type = sc.workload.front().op_type;
  bool seen = false;
  for (const auto& p : r.series) {
    if (p.queued_of(type) > 0)
      seen = true;
    else if (seen)
      return p.t_s;
  }
  return std::nullopt;
}

/// The backlog part in one sentence: finishing time, 429s, p99, and why.
std::string import_summary(const sim::scenario& sc, const sim::run_result& ours,
                           const sim::run_result& base) {
  const auto& type = sc.workload.front().op_type;
  auto busy = [&](const sim::series_point& p) { return p.queued_of(type) > 0; };
  auto size_of
    = [&](const sim::series_point& p) { return p.batch_size_of(type); };
  auto done = [&](const sim::run_result& r) {
    auto t = import_done_s(sc, r);
    return t ? format_fixed(*t, 0) + " s" : std::string{"not finished"};
  };
  std::ostringstream out;
  out << ours.strategy << " emptied the " << type << " backlog in "
      << done(ours) << " instead of " << done(base) << ", with "
      << ours.throttled << " throttled requests instead of " << base.throttled
      << " and p99 " << format_fixed(ours.p99_ms / 1000, 1) << " s vs "
      << format_fixed(base.p99_ms / 1000, 1) << " s: it paced at the ~"
      << format_fixed(
           median_over(ours, busy, [](auto& p) { return p.request_rate; }), 1)
      << " requests/s the API allowed and filled them to "
      << format_fixed(median_over(ours, busy, size_of), 0) << " " << type
      << "s, where the static baseline sent "
      << format_fixed(median_over(base, busy, size_of), 0)
      << " a request as fast as it could and "
      << format_fixed(100 * base.throttle_rate, 0)
      << "% of its requests were refused.\n";
  return out.str();
}

int run_demo(const std::vector<std::string>& args) {
  const std::string cmd = "demo";
  arguments parsed{
    args, {}, {"--scenario", "--import", "--report", "--strategy"}};
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
  auto import_path = parsed.value("--import")
                       .value_or(sim::shipped_scenario_path("maritime_import"));
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
  rep.note = "Live, in real time, against the simulated API; the static "
             "baseline on the same scenario and seed in virtual time.";
  rep.results.push_back(sim::run_strategy(sc, *strategy, opts));
  if (tty)
    std::cout << '\n';
  rep.results.push_back(sim::run_strategy(sc, *sim::find_strategy("static")));
  rep.results.back().strategy = "static (seed)";
  const auto& ours = rep.results[0];
  const auto& base = rep.results[1];
  std::cout << "\n" << sim::to_table(rep) << "\n" << live_summary(ours, base);

  // The case users come for: a backlog the budget binds.
  auto import_sc = sim::load_scenario({import_path, {}, true}, errors);
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  sim::sim_report imp;
  imp.sc = import_sc;
  imp.note = "A backlog, in virtual time: the budget binds.";
  imp.results.push_back(sim::run_strategy(import_sc, *strategy));
  imp.results.push_back(
    sim::run_strategy(import_sc, *sim::find_strategy("static")));
  imp.results.back().strategy = "static (seed)";
  std::cout << "\nthe everyday case where the budget binds: " << import_sc.name
            << " ("
            << std::filesystem::path{import_path}.lexically_normal().string()
            << ", virtual time)\n"
            << sim::to_table(imp) << "\n"
            << import_summary(import_sc, imp.results[0], imp.results[1]);
  if (!write_file(report_path, sim::to_html({rep, imp}))) {
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
     "Usage: batching demo [--scenario FILE.yaml] [--import FILE.yaml]\n"
     "                     [--strategy NAME] [--report FILE.html]\n\n"
     "Runs the seed's maritime insurance scenario (policy validations as\n"
     "reads, claim updates as writes, one Notion-like budget) through the\n"
     "real runtime in real time (at most 30 s) with a live progress line:\n"
     "elapsed time, batch size per type, goodput, queued operations and\n"
     "429s. Then compares it with the seed's static baseline on the same\n"
     "scenario and seed, runs the everyday case where the budget binds (a\n"
     "10,000-claim import, sim/scenarios/maritime_import.yaml, in virtual\n"
     "time) with both, says what differed and why, and writes one HTML\n"
     "report of both (default batching-demo.html).\n\n"
     "Options:\n"
     "  --scenario FILE  the live part (default: maritime_demo)\n"
     "  --import FILE    the backlog part (default: maritime_import)\n"
     "  --strategy NAME  ours (default adaptive)\n"
     "  --report FILE    the HTML report (default batching-demo.html)\n",
     run_demo},
  };
}

} // namespace batching::cli
