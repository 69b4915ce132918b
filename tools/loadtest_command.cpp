// `batching loadtest`: the seed's load test in real time. Load generator
// actors (one per user) play the operations into the real runtime, whose
// backend is a simulated one (a scenario's, or a Notion-like default)
// answering on the wall clock; once per batch size when batch_sizes is
// given, else once with the chosen strategy.

#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "config/reader.hpp"
#include "messages/messages.hpp"
#include "sim/runner.hpp"
#include "tools/commands.hpp"
#include "tools/json_text.hpp"

namespace batching {

/// The seed's LoadTestConfiguration as a YAML schema.
template <class V>
void visit(load_test_config& x, V& v) {
  v.name("name", x.name, "Name of the test (reports).");
  v.scalar("duration_seconds", x.duration_seconds, config::bounds{1, 86'400},
           "s", "How long the users submit.");
  v.scalar("concurrent_users", x.concurrent_users, config::bounds{1, 10'000},
           "users", "Load generator actors (half read, half write).");
  v.scalar("operations_per_user", x.operations_per_user, config::bounds{1, 1e9},
           "operations", "Operations each user submits over the duration.");
  v.counts("batch_sizes", x.batch_sizes, config::batch_items,
           "One run per batch size (static sizing); empty: one run with "
           "the strategy.");
}

} // namespace batching

namespace batching::cli {

namespace {

/// The scenario a load test runs: users split into read and write streams
/// of constant arrivals, one job per operation.
sim::scenario load_scenario_for(const load_test_config& lt,
                                const sim::backend_spec& backend) {
  sim::scenario sc;
  sc.name = lt.name.empty() ? "loadtest" : lt.name;
  sc.duration_s = lt.duration_seconds;
  sc.drain_s = 30;
  sc.backend = backend;
  auto writers = (lt.concurrent_users + 1) / 2;
  auto readers = lt.concurrent_users - writers;
  auto per_user
    = static_cast<double>(lt.operations_per_user) / lt.duration_seconds;
  for (auto [type, users] :
       {std::pair{"write", writers}, std::pair{"read", readers}}) {
    if (users == 0)
      continue;
    workload_plan w;
    w.op_type = type;
    w.arrival = arrival_kind::constant;
    w.rate = per_user * users;
    w.users = users;
    w.job_size = 1;
    sc.workload.push_back(w);
  }
  return sc;
}

boost::json::object result_json(const std::string& name,
                                const sim::scenario& sc,
                                const sim::run_result& r) {
  auto total = r.succeeded + r.failed;
  boost::json::object o;
  o["name"] = name;
  o["total_operations"] = r.submitted;
  o["succeeded"] = r.succeeded;
  o["failed"] = r.failed;
  o["throttled"] = r.throttled;
  o["duration_seconds"] = sc.duration_s;
  o["operations_per_second"] = r.goodput;
  o["success_rate"] = total ? static_cast<double>(r.succeeded) / total : 0.0;
  o["latency_ms"] = {{"p50", r.p50_ms}, {"p95", r.p95_ms}, {"p99", r.p99_ms}};
  boost::json::array per_type;
  for (const auto& st : r.streams)
    per_type.push_back(
      {{"op_type", st.op_type},
       {"succeeded", st.succeeded},
       {"failed", st.failed},
       {"operations_per_second", st.succeeded / sc.duration_s},
       {"latency_ms",
        {{"p50", st.p50_ms}, {"p95", st.p95_ms}, {"p99", st.p99_ms}}}});
  o["per_type"] = std::move(per_type);
  return o;
}

int run_loadtest(const std::vector<std::string>& args) {
  const std::string cmd = "loadtest";
  arguments parsed{args,
                   {"--json"},
                   {"--name", "--duration", "--users", "--ops-per-user",
                    "--batch-sizes", "--config", "--backend", "--strategy"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  load_test_config lt;
  lt.name = "loadtest";
  lt.duration_seconds = 10;
  lt.concurrent_users = 4;
  lt.operations_per_user = 500;
  std::vector<config::diagnostic> errors;
  if (auto path = parsed.value("--config")) {
    auto found = config::read_document({*path, {}, true}, lt);
    errors.insert(errors.end(), found.begin(), found.end());
  }
  try {
    if (auto v = parsed.value("--name"))
      lt.name = *v;
    if (auto v = parsed.value("--duration"))
      lt.duration_seconds = static_cast<std::uint32_t>(std::stoul(*v));
    if (auto v = parsed.value("--users"))
      lt.concurrent_users = static_cast<std::uint32_t>(std::stoul(*v));
    if (auto v = parsed.value("--ops-per-user"))
      lt.operations_per_user = static_cast<std::uint32_t>(std::stoul(*v));
    if (auto v = parsed.value("--batch-sizes"))
      lt.batch_sizes = parse_counts(*v);
  } catch (const std::exception&) {
    return usage_error(cmd, "--duration, --users, --ops-per-user and "
                            "--batch-sizes take whole numbers");
  }
  if (lt.duration_seconds < 1 || lt.concurrent_users < 1
      || lt.operations_per_user < 1)
    return usage_error(cmd, "duration, users and operations per user must "
                            "be at least 1");
  sim::backend_spec backend;
  if (auto path = parsed.value("--backend"))
    backend = sim::load_scenario({*path, {}, true}, errors).backend;
  auto strategy
    = sim::find_strategy(parsed.value("--strategy").value_or("adaptive"));
  if (!strategy)
    errors.push_back(
      {"--strategy", 0, 0,
       "unknown strategy (expected one of: " + sim::strategy_choices() + ")"});
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  auto sc = load_scenario_for(lt, backend);
  std::vector<std::pair<std::string, sim::strategy_spec>> runs;
  if (lt.batch_sizes.empty())
    runs.emplace_back(lt.name, *strategy);
  for (auto size : lt.batch_sizes) {
    auto s = *strategy;
    s.name = "static_" + std::to_string(size);
    s.sizing = strategy_kind::fixed;
    s.batch_size = size;
    runs.emplace_back(lt.name + " (batch " + std::to_string(size) + ")", s);
  }
  progress_line line;
  boost::json::array results;
  for (const auto& [name, s] : runs) {
    sim::run_options opts;
    opts.real_time = true;
    opts.progress = [&, name = name](double t, double total,
                                     const sim::series_point& p) {
      std::ostringstream text;
      text << name << ": " << t << "/" << total << " s, goodput " << p.goodput
           << "/s, 429s " << p.throttled << ", queued " << p.queued;
      line.show(text.str());
    };
    auto r = sim::run_strategy(sc, s, opts);
    line.clear();
    auto o = result_json(name, sc, r);
    if (!parsed.has("--json")) {
      std::cout << name << ": " << r.submitted << " operations, " << r.goodput
                << " ops/s, success " << 100 * o["success_rate"].as_double()
                << "%, 429s " << r.throttled << ", latency p50 " << r.p50_ms
                << " ms, p99 " << r.p99_ms << " ms\n";
      for (const auto& st : r.streams)
        std::cout << "  " << st.op_type << ": " << st.succeeded
                  << " succeeded, " << st.failed << " failed, p99 " << st.p99_ms
                  << " ms\n";
    }
    results.push_back(std::move(o));
  }
  if (parsed.has("--json"))
    std::cout << to_json_text(results.size() == 1 ? results[0]
                                                  : boost::json::value(results))
              << '\n';
  return exit_ok;
}

} // namespace

std::vector<command> loadtest_commands() {
  return {
    {"loadtest", "run a load test in real time",
     "Usage: batching loadtest [--config FILE.yaml] [--name NAME]\n"
     "                         [--duration S] [--users N] [--ops-per-user N]\n"
     "                         [--batch-sizes LIST] [--strategy NAME]\n"
     "                         [--backend SCENARIO.yaml] [--json]\n\n"
     "Plays concurrent users (load generator actors; half submit writes,\n"
     "half reads, at a constant pace) into the real runtime for the\n"
     "duration, in real time, against a simulated backend answering on the\n"
     "wall clock: the backend of SCENARIO.yaml, else a Notion-like one (3\n"
     "requests/s, 100 items and 500 KB per request). With batch sizes, one\n"
     "run per size with static sizing. Reports the seed's figures: total\n"
     "operations, operations/s, success rate, 429s, latency p50/p95/p99 and\n"
     "a per-type breakdown.\n\n"
     "The configuration file has the seed's keys: name, duration_seconds,\n"
     "concurrent_users, operations_per_user, batch_sizes. Flags override it.\n"
     "Defaults: 10 s, 4 users, 500 operations per user, strategy adaptive.\n\n"
     "Example:\n"
     "  batching loadtest --duration 10 --users 4 --batch-sizes 10,50,100\n",
     run_loadtest},
  };
}

} // namespace batching::cli
