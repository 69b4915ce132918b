// `batching loadtest`: the seed's load test in real time. Load generator
// actors (one per user) play the operations into the real runtime, whose
// backend is a simulated one (a scenario's, or a Notion-like default)
// answering on the wall clock; once per batch size when batch_sizes is
// given, else once with the chosen strategy.

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json.hpp>

#include "config/loader.hpp"
#include "config/reader.hpp"
#include "messages/messages.hpp"
#include "runtime/policy/load_test.hpp"
#include "runtime/policy/text.hpp"
#include "runtime/system/runtime.hpp"
#include "sim/report.hpp"
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

/// One type's counters in a dashboard (runtime::dashboard()'s JSON).
struct type_reading {
  double succeeded = 0, failed = 0, throttled = 0, requests = 0;
  double queued = 0, batch_size = 0, in_flight = 0, request_rate = 0;
  double latency_count = 0, latency_sum_ms = 0;
  std::vector<double> cumulative; // latency histogram
};

std::map<std::string, type_reading> read_types(const boost::json::value& d) {
  std::map<std::string, type_reading> out;
  auto num = [](const boost::json::value& v) { return v.to_number<double>(); };
  for (const auto& [type, m] : d.at("batching_metrics").as_object()) {
    type_reading r;
    r.succeeded = num(m.at("succeeded"));
    r.failed = num(m.at("failed"));
    r.throttled = num(m.at("throttled"));
    r.requests = num(m.at("requests"));
    r.queued = num(m.at("queue_depth"));
    r.batch_size = num(m.at("current_batch_size"));
    r.in_flight = num(m.at("in_flight_batches"));
    r.request_rate = num(m.at("request_rate"));
    const auto& h = m.at("latency_histogram");
    r.latency_count = num(h.at("count"));
    r.latency_sum_ms = num(h.at("sum_ms"));
    for (const auto& c : h.at("cumulative").as_array())
      r.cumulative.push_back(num(c));
    out[std::string{type}] = std::move(r);
  }
  return out;
}

/// The q-quantile of the operations finished between two readings, from
/// the histogram's deltas: the upper bound of the bucket it falls in.
double quantile_ms(const type_reading& a, const type_reading& b, double q) {
  auto n = b.latency_count - a.latency_count;
  if (n <= 0)
    return 0;
  for (std::size_t i = 0; i < b.cumulative.size(); ++i) {
    auto below
      = b.cumulative[i] - (i < a.cumulative.size() ? a.cumulative[i] : 0);
    if (below >= q * n && i < latency_bucket_bounds_ms.size())
      return latency_bucket_bounds_ms[i];
  }
  return latency_bucket_bounds_ms.back();
}

/// One run against the target: the seed's figures, per type, the series.
struct target_run {
  std::string name;
  load_test_result result;
  double p99_ms = 0, avg_ms = 0, requests = 0;
  std::uint64_t unfinished = 0;
  sim::run_result series; // for the HTML report
};

target_run run_against(const runtime_config& cfg, const load_shape& shape,
                       const std::string& name, double drain_s,
                       progress_line& line) {
  target_run out;
  out.name = name;
  out.series.strategy = name;
  runtime::options opts;
  opts.sample_resources = false;
  runtime rt{cfg, opts};
  if (start_with_http_executors(rt, cfg, "loadtest") != exit_ok)
    throw std::runtime_error{"cannot start the runtime"};
  auto before = read_types(rt.dashboard());
  auto last = before;
  auto sample = [&](double t) {
    auto now = read_types(rt.dashboard());
    sim::series_point p;
    p.t_s = t;
    double queued = 0, thr = 0;
    for (const auto& [type, r] : now) {
      const auto& l = last[type];
      p.goodput += r.succeeded - l.succeeded;
      p.requests += r.requests - l.requests;
      p.throttled += r.throttled - l.throttled;
      p.p99_ms = std::max(p.p99_ms, quantile_ms(l, r, 0.99));
      p.batch_size[type] = static_cast<std::uint32_t>(r.batch_size);
      p.queued_by_type[type] = static_cast<std::uint64_t>(r.queued);
      p.in_flight += static_cast<std::uint32_t>(r.in_flight);
      p.request_rate = std::max(p.request_rate, r.request_rate);
      queued += r.queued;
      thr += r.throttled - before[type].throttled;
    }
    p.queued = static_cast<std::uint64_t>(queued);
    last = now;
    std::ostringstream text;
    text << name << ": " << t << "/" << shape.duration_s << " s ("
         << phase_at(shape, t - 1) << "), " << p.goodput << " ops/s, 429s "
         << thr << ", queued " << queued;
    line.show(text.str(), t, shape.duration_s);
    out.series.series.push_back(std::move(p));
    return queued;
  };
  auto played
    = rt.play_load(seed_phases(shape), from_seconds(shape.duration_s), sample);
  // Drain: what was submitted finishes (or the drain time runs out).
  for (double t = shape.duration_s + 1; t <= shape.duration_s + drain_s; ++t) {
    std::this_thread::sleep_for(std::chrono::seconds{1});
    if (sample(t) == 0)
      break;
  }
  line.clear();
  auto after = read_types(rt.dashboard());
  rt.stop(std::chrono::seconds{5});
  auto& r = out.result;
  r.name = name;
  r.duration_seconds = shape.duration_s;
  type_reading all_a, all_b;
  double count = 0, sum = 0;
  for (const auto& [type, b] : after) {
    const auto& a = before[type];
    type_breakdown t;
    t.op_type = type;
    t.succeeded = static_cast<std::uint64_t>(b.succeeded - a.succeeded);
    t.failed = static_cast<std::uint64_t>(b.failed - a.failed);
    t.throttled = static_cast<std::uint64_t>(b.throttled - a.throttled);
    t.total_operations = t.succeeded + t.failed;
    t.operations_per_second = t.succeeded / shape.duration_s;
    t.latency_ms.p50 = quantile_ms(a, b, 0.5);
    t.latency_ms.p95 = quantile_ms(a, b, 0.95);
    t.latency_ms.p99 = quantile_ms(a, b, 0.99);
    auto n = b.latency_count - a.latency_count;
    t.latency_ms.mean = n > 0 ? (b.latency_sum_ms - a.latency_sum_ms) / n : 0;
    count += n;
    sum += b.latency_sum_ms - a.latency_sum_ms;
    out.requests += b.requests - a.requests;
    out.p99_ms = std::max(out.p99_ms, t.latency_ms.p99);
    r.succeeded += t.succeeded;
    r.failed += t.failed;
    r.throttled += t.throttled;
    r.per_type.push_back(t);
  }
  r.total_operations = played.operations;
  out.unfinished = played.operations > r.succeeded + r.failed
                     ? played.operations - r.succeeded - r.failed
                     : 0;
  r.operations_per_second = r.succeeded / shape.duration_s;
  r.success_rate = played.operations
                     ? static_cast<double>(r.succeeded) / played.operations
                     : 0;
  out.avg_ms = count > 0 ? sum / count : 0;
  r.latency_ms.mean = out.avg_ms;
  r.latency_ms.p99 = out.p99_ms;
  auto& sr = out.series;
  sr.submitted = played.operations;
  sr.succeeded = r.succeeded;
  sr.failed = r.failed;
  sr.unfinished = out.unfinished;
  sr.requests = static_cast<std::uint64_t>(out.requests);
  sr.throttled = r.throttled;
  sr.throttle_rate = out.requests > 0 ? r.throttled / out.requests : 0;
  sr.goodput = r.operations_per_second;
  sr.p99_ms = out.p99_ms;
  sr.slo_met = true;
  return out;
}

measured_performance measured_of(const target_run& run,
                                 const load_shape& shape) {
  measured_performance m;
  const auto& r = run.result;
  if (run.requests > 0)
    m.success_rate_without_throttling_percent
      = 100 * (1 - r.throttled / run.requests);
  if (r.succeeded + r.failed > 0) {
    m.average_response_time_ms = run.avg_ms;
    m.p99_response_time_ms = run.p99_ms;
    m.stability_percent
      = 100.0 * r.succeeded / static_cast<double>(r.total_operations);
  }
  // The spike was carried when every operation of the run finished well.
  m.load_multiplier
    = r.failed == 0 && run.unfinished == 0 ? shape.spike_multiplier : 0;
  return m;
}

boost::json::object target_json(const target_run& run,
                                const std::vector<target_verdict>& verdicts) {
  const auto& r = run.result;
  boost::json::object o;
  o["name"] = r.name;
  o["total_operations"] = r.total_operations;
  o["succeeded"] = r.succeeded;
  o["failed"] = r.failed;
  o["unfinished"] = run.unfinished;
  o["requests"] = run.requests;
  o["throttled"] = r.throttled;
  o["duration_seconds"] = r.duration_seconds;
  o["operations_per_second"] = r.operations_per_second;
  o["success_rate"] = r.success_rate;
  o["latency_ms"] = {{"mean", r.latency_ms.mean}, {"p99", r.latency_ms.p99}};
  boost::json::array per_type;
  for (const auto& t : r.per_type)
    per_type.push_back({{"op_type", t.op_type},
                        {"succeeded", t.succeeded},
                        {"failed", t.failed},
                        {"throttled", t.throttled},
                        {"operations_per_second", t.operations_per_second},
                        {"latency_ms",
                         {{"mean", t.latency_ms.mean},
                          {"p50", t.latency_ms.p50},
                          {"p95", t.latency_ms.p95},
                          {"p99", t.latency_ms.p99}}}});
  o["per_type"] = std::move(per_type);
  o["performance_targets"] = sim::to_json(verdicts);
  return o;
}

/// `loadtest --target URL`: the seed's phases and operation mix through
/// the runtime and its HTTP executor into a real server.
int run_target(const std::string& url, const arguments& parsed,
               const load_test_config& lt) {
  const std::string cmd = "loadtest";
  std::vector<config::diagnostic> errors;
  auto files = parsed.values("--runtime-config");
  if (files.empty())
    files = config::default_files(config::default_directory());
  auto loaded = config::load(config::from_paths(files));
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  auto cfg = loaded.config;
  load_shape shape;
  shape.duration_s = lt.duration_seconds;
  shape.users = std::max(1u, lt.concurrent_users / 2);
  shape.peak_items_per_s = static_cast<double>(lt.concurrent_users)
                           * lt.operations_per_user / lt.duration_seconds;
  shape.spike_multiplier = cfg.performance_targets.load_multiplier;
  double drain_s = 30;
  try {
    if (auto v = parsed.value("--spike"))
      shape.spike_multiplier = std::stod(*v);
    if (auto v = parsed.value("--drain"))
      drain_s = std::stod(*v);
    if (auto v = parsed.value("--rate"))
      for (auto& [_, be] : cfg.backends)
        be.initial_requests_per_second = std::stod(*v);
    if (auto v = parsed.value("--mix")) {
      shape.mix.clear();
      for (const auto& part : split_list(*v)) {
        auto eq = part.find('=');
        if (eq == std::string::npos)
          throw std::invalid_argument{part};
        shape.mix[part.substr(0, eq)] = std::stod(part.substr(eq + 1));
      }
    }
  } catch (const std::exception&) {
    return usage_error(cmd, "--spike, --drain and --rate take numbers, --mix "
                            "TYPE=SHARE,... (e.g. write=0.7,read=0.3)");
  }
  if (shape.spike_multiplier < 1 || drain_s < 0)
    return usage_error(cmd, "--spike must be at least 1, --drain at least 0");
  for (const auto& [type, share] : shape.mix) {
    if (!cfg.operation_configs.count(type))
      return usage_error(cmd, "--mix: unknown operation type '" + type + "'");
    if (!(share > 0))
      return usage_error(cmd, "--mix: shares must be above 0");
  }
  // Every backend a mixed type uses goes to the target.
  for (const auto& [type, _] : shape.mix)
    cfg.backends[cfg.operation_configs.at(type).backend].http.url = url;
  std::vector<std::pair<std::string, runtime_config>> runs;
  runs.emplace_back(lt.name, cfg);
  for (auto size : lt.batch_sizes) {
    auto c = cfg;
    for (auto& [type, op] : c.operation_configs) {
      op.strategy = strategy_kind::fixed;
      op.preferred_batch_size = op.max_batch_size = size;
    }
    c.batching.min_batch_size = std::min(c.batching.min_batch_size, size);
    c.batching.max_batch_size = std::max(c.batching.max_batch_size, size);
    runs.emplace_back(lt.name + " (static batch " + std::to_string(size) + ")",
                      c);
  }
  progress_line line;
  std::vector<target_run> done;
  for (const auto& [name, c] : runs) {
    try {
      done.push_back(run_against(c, shape, name, drain_s, line));
    } catch (const std::exception& e) {
      std::cerr << "batching loadtest: " << e.what() << '\n';
      return exit_failure;
    }
  }
  // Throughput improvement: the configured strategy against the best
  // static batch size (when sizes were given).
  std::optional<double> best_static;
  for (std::size_t i = 1; i < done.size(); ++i)
    best_static
      = std::max(best_static.value_or(0), done[i].result.operations_per_second);
  boost::json::array json_runs;
  std::size_t best = 0;
  std::vector<std::vector<target_verdict>> verdicts;
  for (std::size_t i = 0; i < done.size(); ++i) {
    auto m = measured_of(done[i], shape);
    if (i == 0 && best_static && *best_static > 0)
      m.throughput_improvement_percent
        = 100 * (done[0].result.operations_per_second / *best_static - 1);
    verdicts.push_back(check_targets(cfg.performance_targets, m));
    json_runs.push_back(target_json(done[i], verdicts.back()));
    // The most operations/s; within 1% (a load the API carries either
    // way), the lower p99, then the lower mean latency.
    auto a = done[i].result.operations_per_second;
    auto b0 = done[best].result.operations_per_second;
    if (a > 1.01 * b0
        || (a >= 0.99 * b0
            && (done[i].p99_ms < done[best].p99_ms
                || (done[i].p99_ms == done[best].p99_ms
                    && done[i].avg_ms < done[best].avg_ms))))
      best = i;
  }
  std::vector<std::string> recommendations;
  const auto& b = done[best];
  if (done.size() > 1)
    recommendations.push_back("best configuration: " + b.name + " ("
                              + format_fixed(b.result.operations_per_second, 1)
                              + " operations/s, p99 "
                              + format_fixed(b.p99_ms, 0) + " ms)");
  for (const auto& run : done) {
    auto share = run.requests > 0 ? run.result.throttled / run.requests : 0;
    if (share > 0.05)
      recommendations.push_back(
        run.name + ": " + format_fixed(100 * share, 1)
        + "% of requests were throttled: declare the API's rate (--rate, "
          "backends.<name>.initial_requests_per_second) or let it advertise "
          "its budget in rate-limit headers");
    if (run.unfinished > 0)
      recommendations.push_back(
        run.name + ": " + std::to_string(run.unfinished)
        + " operations still queued after the drain: the offered load "
          "exceeds the API's budget (lower --ops-per-user or --spike, or "
          "raise the budget)");
    if (run.result.failed > 0)
      recommendations.push_back(run.name + ": "
                                + std::to_string(run.result.failed)
                                + " operations failed: see the server's log");
  }
  if (parsed.has("--json")) {
    std::cout << to_json_text(boost::json::object{
      {"target", url},
      {"phases", "ramp 0-20%, steady 20-60%, spike x"
                   + format_number(shape.spike_multiplier)
                   + " 60-75%, steady 75-100%"},
      {"runs", std::move(json_runs)},
      {"best_configuration", b.name},
      {"recommendations", [&] {
         boost::json::array a;
         for (const auto& r : recommendations)
           a.push_back(boost::json::string{r});
         return a;
       }()}}) << '\n';
  } else {
    for (std::size_t i = 0; i < done.size(); ++i) {
      const auto& run = done[i];
      const auto& r = run.result;
      std::cout << run.name << ": " << r.total_operations << " operations, "
                << format_fixed(r.operations_per_second, 1)
                << " ops/s, success " << format_fixed(100 * r.success_rate, 1)
                << "%, " << r.throttled << " of " << format_number(run.requests)
                << " requests throttled, latency mean "
                << format_fixed(run.avg_ms, 0) << " ms, p99 "
                << format_fixed(run.p99_ms, 0) << " ms\n";
      for (const auto& t : r.per_type)
        std::cout << "  " << t.op_type << ": " << t.succeeded << " succeeded, "
                  << t.failed << " failed, p50 "
                  << format_fixed(t.latency_ms.p50, 0) << " ms, p99 "
                  << format_fixed(t.latency_ms.p99, 0) << " ms\n";
      std::cout << "  performance targets (config/performance_targets.yaml):\n";
      for (const auto& v : verdicts[i])
        std::cout << "    " << to_text(v) << '\n';
    }
    for (const auto& r : recommendations)
      std::cout << "recommendation: " << r << '\n';
  }
  if (auto path = parsed.value("--report")) {
    sim::sim_report rep;
    rep.sc.name = "loadtest " + url;
    rep.sc.duration_s = shape.duration_s;
    rep.note = "Real time, through the runtime and its HTTP executor; "
               "phases ramp, steady, spike x"
               + format_number(shape.spike_multiplier) + ", steady.";
    for (const auto& run : done)
      rep.results.push_back(run.series);
    rep.timing = false;
    if (!write_file(*path, sim::to_html(rep))) {
      std::cerr << "batching loadtest: cannot write " << *path << '\n';
      return exit_failure;
    }
    if (!parsed.has("--json"))
      std::cout << "report: " << *path << '\n';
  }
  for (const auto& run : done)
    if (run.unfinished > 0 || run.result.failed > 0)
      return exit_failure;
  return exit_ok;
}

int run_loadtest(const std::vector<std::string>& args) {
  const std::string cmd = "loadtest";
  arguments parsed{args,
                   {"--json"},
                   {"--name", "--duration", "--users", "--ops-per-user",
                    "--batch-sizes", "--config", "--backend", "--strategy",
                    "--target", "--runtime-config", "--rate", "--mix",
                    "--spike", "--drain", "--report"}};
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
  if (auto url = parsed.value("--target")) {
    if (parsed.value("--backend") || parsed.value("--strategy"))
      return usage_error(cmd, "--target drives a real server: no --backend "
                              "or --strategy (the configuration's strategies "
                              "run; --batch-sizes adds static runs)");
    if (!errors.empty()) {
      for (const auto& e : errors)
        std::cerr << e.to_string() << '\n';
      return exit_usage;
    }
    return run_target(*url, parsed, lt);
  }
  for (auto opt : {"--runtime-config", "--rate", "--mix", "--spike", "--drain",
                   "--report"})
    if (parsed.value(opt))
      return usage_error(cmd, std::string{opt} + " goes with --target");
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
     "                         [--backend SCENARIO.yaml] [--json]\n"
     "       batching loadtest --target URL [--runtime-config FILE]...\n"
     "                         [--rate R] [--mix TYPE=SHARE,...] [--spike X]\n"
     "                         [--drain S] [--report FILE.html] [--duration "
     "S]\n"
     "                         [--users N] [--ops-per-user N]\n"
     "                         [--batch-sizes LIST] [--json]\n\n"
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
     "With --target, against the real thing: the runtime (the shipped\n"
     "configuration, or --runtime-config files) sends every batch through\n"
     "its HTTP executor to URL while load generator actors play the seed's\n"
     "phases: a ramp to the peak (users x ops-per-user / duration items/s)\n"
     "over the first 20%, steady to 60%, a spike of --spike times the peak\n"
     "(default performance_targets.load_multiplier) to 75%, steady to the\n"
     "end; then up to --drain seconds (default 30) for what is queued.\n"
     "--mix splits the load by type (default write=0.5,read=0.5), --rate\n"
     "declares the API's requests/s. With --batch-sizes, one more run per\n"
     "size with static sizing. Prints per run the seed's figures, per type,\n"
     "a pass/fail line per target of config/performance_targets.yaml, then\n"
     "the best configuration and recommendations; --report writes the\n"
     "runs' charts. Exit status 1 when an operation failed or was left.\n\n"
     "Example:\n"
     "  batching loadtest --duration 10 --users 4 --batch-sizes 10,50,100\n"
     "  batching loadtest --target https://api.example.com/append --rate 3\n",
     run_loadtest},
  };
}

} // namespace batching::cli
