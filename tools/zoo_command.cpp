// `batching bench zoo`: every strategy on random limiter draws (sim/zoo.hpp),
// the distributions per strategy, and the goals of docs/benchmarks.md per
// group of draws. Runs draw by draw on worker threads (each run is a pure
// function of its draw and strategy, so the output does not depend on the
// number of threads).

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "runtime/policy/text.hpp"
#include "sim/zoo.hpp"
#include "tools/commands.hpp"
#include "tools/json_text.hpp"

namespace batching::cli {

namespace {

boost::json::value opt(const std::optional<double>& x) {
  return x ? boost::json::value(*x) : boost::json::value(nullptr);
}

boost::json::object to_json(const sim::distribution& d) {
  return {{"n", d.n}, {"p10", d.p10}, {"median", d.median}, {"p90", d.p90}};
}

std::string percent(double x) { return format_fixed(100 * x, 1) + "%"; }

struct group {
  const char* name;
  bool (*keep)(const sim::zoo_draw&);
};

bool quota_kind(const sim::zoo_draw& d) {
  return d.api.budget != sim::budget_kind::concurrency
         && d.api.budget != sim::budget_kind::unlimited;
}

const std::vector<group>& groups() {
  static const std::vector<group> all{
    {"all draws", nullptr},
    {"headers advertised",
     [](const sim::zoo_draw& d) {
       return d.api.headers != header_style::none;
     }},
    {"Retry-After only, no declared rate",
     [](const sim::zoo_draw& d) {
       return quota_kind(d) && d.api.headers == header_style::none
              && d.knowledge == sim::client_knowledge::none;
     }},
    {"declared rate 2x too high or too low, no headers",
     [](const sim::zoo_draw& d) {
       return quota_kind(d) && d.api.headers == header_style::none
              && (d.knowledge == sim::client_knowledge::high
                  || d.knowledge == sim::client_knowledge::low);
     }},
    {"concurrency limits and queueing servers",
     [](const sim::zoo_draw& d) { return !quota_kind(d); }},
  };
  return all;
}

std::string table(const std::vector<sim::zoo_summary>& sums,
                  const std::string& reference) {
  std::ostringstream out;
  char line[400];
  std::snprintf(line, sizeof line,
                "%-28s %-20s %-8s %-13s %-12s %-9s %-7s %s\n", "strategy",
                "budget use p10/med/p90", "no 429", "429s med/p90",
                "t90 med/p90", "p99/orcl", "storms",
                "better than "
                "it / it better");
  out << line;
  const sim::zoo_summary* ref = nullptr;
  for (const auto& s : sums)
    if (s.strategy == reference)
      ref = &s;
  for (const auto& s : sums) {
    auto use = s.budget_use.n ? format_fixed(s.budget_use.p10, 2) + "/"
                                  + format_fixed(s.budget_use.median, 2) + "/"
                                  + format_fixed(s.budget_use.p90, 2)
                              : std::string("-");
    auto t90 = s.time_to_90pct_s.n
                 ? format_fixed(s.time_to_90pct_s.median, 0) + "/"
                     + format_fixed(s.time_to_90pct_s.p90, 0)
                 : std::string("-");
    std::string versus = "-";
    if (ref && ref != &s)
      versus = percent(ref->better_than.at(s.strategy)) + " / "
               + percent(s.better_than.at(reference));
    std::snprintf(
      line, sizeof line, "%-28s %-20s %-8s %-13s %-12s %-9s %-7s %s\n",
      s.strategy.c_str(), use.c_str(), percent(s.zero_throttle_share).c_str(),
      (percent(s.throttle_rate.median) + "/" + percent(s.throttle_rate.p90))
        .c_str(),
      t90.c_str(),
      s.p99_vs_oracle.n ? format_fixed(s.p99_vs_oracle.median, 2).c_str() : "-",
      percent(1 - s.storm_free_share).c_str(), versus.c_str());
    out << line;
    if (s.lost || s.duplicated)
      out << "  ^ lost " << s.lost << ", duplicated " << s.duplicated << '\n';
  }
  return out.str();
}

/// One draw, second by second, per strategy: what `--trace` prints to look
/// into a draw that a summary points at.
int print_trace(const sim::zoo_draw& d,
                const std::vector<sim::zoo_strategy>& strategies) {
  sim::limiter l{sim::rate_limited_api::limiter_config(d.api), time_point{}};
  std::cout << "draw " << d.index << ": " << to_string(d.api.budget)
            << ", budget " << format_fixed(d.budget_requests, 3)
            << " requests/s (" << format_fixed(d.budget_items, 1)
            << " items/s), window " << format_fixed(l.window_s(), 1)
            << " s, headers " << to_string(d.api.headers) << ", Retry-After "
            << to_string(d.api.retry_after) << ", tenants "
            << percent(d.api.tenant_share) << ", client told "
            << to_string(d.knowledge) << " ("
            << format_fixed(d.declared_rate, 2) << "/s), demand "
            << format_fixed(d.demand, 1) << " items/s " << to_string(d.shape)
            << ", item cap " << d.api.max_items_per_request << '\n';
  for (const auto& s : strategies) {
    std::vector<sim::zoo_second> series;
    auto r = sim::run_zoo(d, s, &series);
    std::cout << '\n'
              << s.name << ": budget use "
              << (r.budget_use ? format_fixed(*r.budget_use, 3)
                               : std::string("-"))
              << ", " << r.throttled << " of " << r.requests
              << " requests throttled, p99 " << format_fixed(r.p99_ms, 0)
              << " ms, unfinished " << r.unfinished << '\n'
              << "second requests throttled goodput pace queued\n";
    for (std::size_t i = 0; i < series.size(); ++i) {
      const auto& x = series[i];
      std::cout << i << ' ' << x.requests << ' ' << x.throttled << ' '
                << format_fixed(x.goodput, 1) << ' ' << format_fixed(x.rate, 3)
                << ' ' << x.queued << '\n';
    }
  }
  return exit_ok;
}

int run_zoo_bench(const std::vector<std::string>& args) {
  const std::string cmd = "bench zoo";
  arguments parsed{args,
                   {},
                   {"--draws", "--seed", "--json", "--strategies", "--threads",
                    "--trace", "--replicas"}};
  if (auto bad = reject_bad_arguments(cmd, parsed))
    return *bad;
  std::size_t n = 200, replicas = 1,
              threads = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t seed = 1;
  try {
    if (auto v = parsed.value("--draws"))
      n = std::stoull(*v);
    if (auto v = parsed.value("--seed"))
      seed = std::stoull(*v);
    if (auto v = parsed.value("--threads"))
      threads = std::stoull(*v);
    if (auto v = parsed.value("--replicas"))
      replicas = std::stoull(*v);
  } catch (const std::exception&) {
    return usage_error(
      cmd, "--draws, --seed, --threads and --replicas take whole numbers");
  }
  if (n < 1 || threads < 1 || replicas < 1)
    return usage_error(cmd, "--draws, --threads and --replicas must be >= 1");
  if (replicas > 20)
    return usage_error(cmd, "--replicas is at most 20");
  std::optional<std::size_t> trace;
  if (auto v = parsed.value("--trace")) {
    try {
      trace = std::stoull(*v);
    } catch (const std::exception&) {
      return usage_error(cmd, "--trace takes a draw's number");
    }
    if (*trace >= n)
      return usage_error(cmd, "--trace " + *v + ": draws are numbered 0 to "
                                + std::to_string(n - 1));
  }
  std::vector<sim::zoo_strategy> strategies;
  if (auto v = parsed.value("--strategies"); v && *v != "all") {
    for (const auto& name : split_list(*v)) {
      auto found = std::find_if(sim::zoo_strategies().begin(),
                                sim::zoo_strategies().end(),
                                [&](const auto& s) { return s.name == name; });
      if (found == sim::zoo_strategies().end()) {
        std::string names;
        for (const auto& s : sim::zoo_strategies())
          names += (names.empty() ? "" : ", ") + s.name;
        return usage_error(cmd, "unknown strategy '" + name
                                  + "' (expected one of: " + names + ")");
      }
      strategies.push_back(*found);
    }
    // p99 against the oracle's needs the oracle.
    if (std::none_of(strategies.begin(), strategies.end(),
                     [](const auto& s) { return s.name == "oracle"; }))
      strategies.push_back(sim::zoo_strategies().back());
  } else {
    for (const auto& s : sim::zoo_strategies())
      if (!s.knows_tenants) // a bound no client reaches: only when named
        strategies.push_back(s);
  }
  auto draws = sim::draw_zoo(seed, n);
  if (trace)
    return print_trace(draws[*trace], strategies);
  // Run i: draw i / (S R), replica (i / S) mod R, strategy i mod S.
  const auto S = strategies.size();
  std::vector<sim::zoo_run> all_runs(n * replicas * S);
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex progress_mutex;
  progress_line line;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < all_runs.size();) {
      auto replica = (i / S) % replicas;
      all_runs[i] = sim::run_zoo(
        sim::reseeded(draws[i / (S * replicas)], replica), strategies[i % S]);
      all_runs[i].replica = replica;
      auto finished = ++done;
      std::lock_guard<std::mutex> guard{progress_mutex};
      line.show(std::to_string(finished) + "/" + std::to_string(all_runs.size())
                  + " runs",
                static_cast<double>(finished),
                static_cast<double>(all_runs.size()));
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < std::min(threads, all_runs.size()); ++t)
    pool.emplace_back(worker);
  for (auto& t : pool)
    t.join();
  line.clear();

  // The tables are over the draws as drawn; replicas only measure luck.
  std::vector<sim::zoo_run> runs;
  for (const auto& r : all_runs)
    if (r.replica == 0)
      runs.push_back(r);
  const std::string reference = strategies.front().name;
  std::vector<sim::zoo_spread_comparison> spreads;
  if (replicas > 1)
    for (const auto& s : strategies)
      if (s.name != reference && !s.oracle)
        spreads.push_back(
          sim::compare_beyond_spread(all_runs, reference, s.name));
  std::uint64_t lost = 0;
  for (const auto& r : all_runs)
    lost += r.lost;
  if (auto path = parsed.value("--json")) {
    boost::json::array out_runs;
    for (const auto& r : all_runs) {
      const auto& d = draws[r.draw];
      sim::limiter l{sim::rate_limited_api::limiter_config(d.api),
                     time_point{}};
      out_runs.push_back(boost::json::object{
        {"draw", r.draw},
        {"replica", r.replica},
        {"strategy", r.strategy},
        {"limiter", to_string(d.api.budget)},
        {"window_s", l.window_s()},
        {"headers", to_string(d.api.headers)},
        {"retry_after", to_string(d.api.retry_after)},
        {"tenant_share", d.api.tenant_share},
        {"knowledge", to_string(d.knowledge)},
        {"shape", to_string(d.shape)},
        {"budget_requests_per_s", d.budget_requests},
        {"budget_items_per_s", d.budget_items},
        {"demand_items_per_s", d.demand},
        {"max_items_per_request",
         static_cast<std::uint64_t>(d.api.max_items_per_request)},
        {"goodput", r.goodput},
        {"budget_use", opt(r.budget_use)},
        {"throttle_rate", r.throttle_rate},
        {"time_to_90pct_s", opt(r.time_to_90pct_s)},
        {"storm_ratio", r.storm_ratio},
        {"latency_ms", boost::json::object{{"p99", r.p99_ms}}},
        {"slo_met", r.slo_met},
        {"requests", r.requests},
        {"throttled", r.throttled},
        {"submitted", r.submitted},
        {"succeeded", r.succeeded},
        {"unfinished", r.unfinished},
        {"lost", r.lost},
        {"duplicated", r.duplicated},
        {"truncated", r.truncated}});
      if (r.samples > 0)
        out_runs.back().as_object()["learning"]
          = boost::json::object{{"samples", r.samples}, {"advised", r.advised}};
    }
    boost::json::array summary;
    for (const auto& g : groups())
      for (const auto& s : sim::summarize_zoo(draws, runs, g.keep)) {
        boost::json::object better;
        for (const auto& [other, share] : s.better_than)
          better[other] = share;
        summary.push_back(
          boost::json::object{{"group", g.name},
                              {"strategy", s.strategy},
                              {"budget_use", to_json(s.budget_use)},
                              {"throttle_rate", to_json(s.throttle_rate)},
                              {"time_to_90pct_s", to_json(s.time_to_90pct_s)},
                              {"p99_vs_oracle", to_json(s.p99_vs_oracle)},
                              {"zero_throttle_share", s.zero_throttle_share},
                              {"storm_free_share", s.storm_free_share},
                              {"lost", s.lost},
                              {"duplicated", s.duplicated},
                              {"better_than", std::move(better)}});
      }
    boost::json::object out{{"seed", seed},
                            {"draws", n},
                            {"replicas", replicas},
                            {"default_strategy", "adaptive"},
                            {"runs", std::move(out_runs)},
                            {"summary", std::move(summary)}};
    if (!spreads.empty()) {
      boost::json::array spread;
      for (const auto& c : spreads)
        spread.push_back(
          boost::json::object{{"a", c.a},
                              {"b", c.b},
                              {"draws", c.draws},
                              {"a_ahead", boost::json::value_from(c.a_ahead)},
                              {"b_ahead", boost::json::value_from(c.b_ahead)}});
      out["beyond_seed_spread"] = std::move(spread);
    }
    if (!write_file(*path, to_json_text(out) + "\n")) {
      std::cerr << "batching bench zoo: cannot write " << *path << '\n';
      return exit_failure;
    }
  }
  std::cout << "limiter zoo: " << n << " draws, seed " << seed << ", "
            << strategies.size() << " strategies (docs/simulation.md)\n";
  for (const auto& g : groups()) {
    auto sums = sim::summarize_zoo(draws, runs, g.keep);
    if (sums.empty() || sums.front().throttle_rate.n == 0)
      continue;
    std::cout << "\n"
              << g.name << " (" << sums.front().throttle_rate.n << " draws)\n"
              << table(sums, reference);
  }
  if (!spreads.empty()) {
    std::cout << "\nbeyond the seed spread (goodput over " << replicas
              << " replicas of each draw; " << reference
              << " ahead / within / the other ahead, and where it is)\n";
    for (const auto& c : spreads) {
      std::string where;
      for (std::size_t i = 0; i < c.b_ahead.size() && i < 12; ++i)
        where += (i ? ", " : " (draws ") + std::to_string(c.b_ahead[i]);
      if (!c.b_ahead.empty())
        where += c.b_ahead.size() > 12 ? ", ...)" : ")";
      std::cout << "  " << std::left << std::setw(26) << c.b << c.a_ahead.size()
                << " / " << c.draws - c.a_ahead.size() - c.b_ahead.size()
                << " / " << c.b_ahead.size() << where << '\n';
    }
  }
  if (lost > 0) {
    std::cerr << "batching bench zoo: " << lost << " operations lost\n";
    return exit_failure;
  }
  return exit_ok;
}

} // namespace

command zoo_bench_command() {
  return {"bench zoo", "every strategy on random limiters (the limiter zoo)",
          "Usage: batching bench zoo [--draws N] [--seed S] [--json FILE]\n"
          "                          [--strategies LIST|all] [--threads N]\n"
          "                          [--replicas R] [--trace K]\n\n"
          "Draws N (default 200) random backends from the limiter zoo (token\n"
          "bucket, fixed window, sliding log and counter, a log that counts\n"
          "rejections, nginx's delaying leaky bucket, a concurrency limit, a\n"
          "queueing server; Retry-After rounded, exact or absent; rate-limit\n"
          "headers or none; other tenants), workloads (30-300% of the budget,\n"
          "steady, bursty or stepped) and client knowledge (no rate, right,\n"
          "2x too high, 2x too low), runs every strategy on each for 10\n"
          "simulated minutes, and prints per group of draws the distribution\n"
          "of budget use, the share of draws without a 429, the 429 share,\n"
          "seconds to 90% of the budget, p99 against the oracle's, the share\n"
          "of draws with a retry storm, and how often the first strategy is\n"
          "better than each other (and the reverse). docs/simulation.md has\n"
          "the ranges and the rule; exit code 1 if any operation was lost.\n\n"
          "Options:\n"
          "  --draws N          random draws (default 200)\n"
          "  --seed S           the draws' seed (default 1)\n"
          "  --json FILE        write {seed, draws, default_strategy, runs,\n"
          "                     summary} (one run per draw and strategy)\n"
          "  --strategies LIST  comma-separated (the first is the reference;\n"
          "                     the oracle is added); default all (but\n"
          "                     oracle_tenants, a bound that also knows\n"
          "                     the other tenants' rate: name it)\n"
          "  --threads N        worker threads (default: the cores)\n"
          "  --replicas R       run each draw R times (default 1), replica k\n"
          "                     with its random streams reseeded; the tables\n"
          "                     stay over replica 0, and the first strategy\n"
          "                     is compared with each other beyond the seed\n"
          "                     spread (goodput; up to 20)\n"
          "  --trace K          run only draw K (0 to N-1) and print it\n"
          "                     second by second per strategy\n",
          run_zoo_bench};
}

} // namespace batching::cli
