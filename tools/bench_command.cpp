// `batching bench overhead`: what the actor pipeline costs per item.
//
// pipeline:   items/s through the whole runtime (submit_job -> coordinator
//             -> batcher -> gate -> executor -> outcome -> ledger) with a
//             no-op inline executor, unpaced, on the real threaded
//             scheduler, from one host thread submitting jobs.
// tight loop: the same essential work per item in one thread without
//             actors: a ledger entry (job_ledger), batch assembly and the
//             final outcome (batch_engine), the no-op call.
// latency:    item latency (submit -> final outcome) of jobs that fill
//             their batch at once (the batch closes on size, so no linger
//             is included): the time the pipeline adds.
// --journal:  the pipeline again with a job journal (journal.sync full, in
//             a fresh temporary directory): durable items/s and their ratio
//             to the in-memory pipeline of the same run; submit_job's
//             latency (what serve's 202 waits for) for jobs of 100
//             operations; and how long start() takes to replay 1,000,000
//             queued operations (docs/durability.md).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include <boost/json.hpp>

#include "runtime/policy/batch_engine.hpp"
#include "runtime/policy/job_ledger.hpp"
#include "runtime/storage/job_journal.hpp"
#include "runtime/system/runtime.hpp"
#include "sim/oracle.hpp"
#include "sim/report.hpp"
#include "tools/commands.hpp"
#include "tools/json_text.hpp"

namespace batching::cli {

namespace {

using clock_type = std::chrono::steady_clock;

runtime_config bench_config() {
  runtime_config cfg;
  cfg.batching.linger_ms = 1;
  cfg.coordinator.max_queued_operations = 100'000'000;
  cfg.coordinator.max_concurrent_jobs = 1'000;
  auto& be = cfg.backends["default"];
  be.initial_requests_per_second = 0;
  be.max_in_flight = 64;
  for (auto& [_, op] : cfg.operation_configs)
    op.preferred_batch_size = 100;
  return cfg;
}

/// Payload bytes of every operation (--payload-bytes).
std::size_t payload_bytes = 0;

std::vector<operation> make_ops(std::uint64_t n) {
  std::vector<operation> ops(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    ops[i].id = i;
    ops[i].payload.assign(payload_bytes, 'x');
  }
  return ops;
}

/// A started runtime whose only backend answers every batch at once; with
/// a journal at `journal` when not empty.
std::unique_ptr<runtime> start_noop_runtime(std::size_t threads,
                                            const std::string& journal = {}) {
  runtime::options opts;
  opts.threads = threads;
  opts.sample_resources = false;
  auto cfg = bench_config();
  cfg.journal.path = journal;
  auto rt = std::make_unique<runtime>(cfg, opts);
  rt->set_inline_executor("default",
                          [](const batch&) { return batch_outcome{}; });
  rt->start();
  return rt;
}

double pipeline_items_per_s(std::uint64_t items, std::uint64_t job_size,
                            std::size_t threads,
                            const std::string& journal = {}) {
  auto rt_ptr = start_noop_runtime(threads, journal);
  auto& rt = *rt_ptr;
  std::vector<std::uint64_t> ids;
  auto jobs = std::max<std::uint64_t>(1, items / job_size);
  std::vector<std::vector<operation>> prepared;
  for (std::uint64_t j = 0; j < jobs; ++j)
    prepared.push_back(make_ops(job_size));
  auto t0 = clock_type::now();
  for (std::uint64_t j = 0; j < jobs; ++j)
    ids.push_back(
      rt.submit_job(j % 2 ? "write" : "read", std::move(prepared[j])).job_id);
  for (auto id : ids)
    rt.wait(id, std::chrono::minutes{10});
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  rt.stop();
  return static_cast<double>(jobs * job_size) / secs;
}

/// A fresh temporary directory, removed with this object.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    path = std::filesystem::temp_directory_path()
           / ("batching-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() { std::filesystem::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
};

/// submit_job's latency (p50, p99, in ms) with a journal, for jobs of 100
/// operations submitted one after another.
std::pair<double, double> journal_submit_latency_ms(std::size_t threads,
                                                    const std::string& path) {
  auto rt_ptr = start_noop_runtime(threads, path);
  std::vector<double> ms;
  for (int i = 0; i < 2'000; ++i) {
    auto ops = make_ops(100);
    auto t0 = clock_type::now();
    rt_ptr->submit_job("read", std::move(ops));
    ms.push_back(
      std::chrono::duration<double, std::milli>(clock_type::now() - t0)
        .count());
  }
  rt_ptr->stop();
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 99 / 100]};
}

/// Seconds a runtime takes to be made and started (start(): the replay) on
/// a journal holding `items` queued operations (jobs of 100,000).
double replay_seconds(std::uint64_t items, std::size_t threads,
                      const std::string& path) {
  {
    job_journal j{path, journal_sync::normal};
    journal_writes w;
    std::uint64_t id = 1;
    for (std::uint64_t left = items; left > 0; ++id) {
      auto n = std::min<std::uint64_t>(left, 100'000);
      journaled_job job;
      job.id = id;
      job.op_type = "read";
      job.total = n;
      job.operations = make_ops(n);
      w.accepted.push_back(std::move(job));
      left -= n;
    }
    j.commit(w);
  }
  auto t0 = clock_type::now();
  auto rt = start_noop_runtime(threads, path);
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  rt->stop(duration{0});
  return secs;
}

double tight_loop_items_per_s(std::uint64_t items, std::uint64_t job_size) {
  auto cfg = bench_config();
  job_ledger ledger{{1'000, 100'000'000}, {"read"}};
  batch_engine engine{batch_engine::from_settings(cfg, "read", 1)};
  auto jobs = std::max<std::uint64_t>(1, items / job_size);
  std::vector<std::vector<operation>> prepared;
  for (std::uint64_t j = 0; j < jobs; ++j)
    prepared.push_back(make_ops(job_size));
  sync_callback noop = [](const batch&) { return batch_outcome{}; };
  auto t0 = clock_type::now();
  time_point now{};
  for (std::uint64_t j = 0; j < jobs; ++j) {
    auto id = ledger.admit("read", priority::normal, job_size, now).job_id;
    ledger.start(now);
    engine.enqueue(id, priority::normal, {}, 0, std::move(prepared[j]), now);
    while (auto b = engine.take_batch(now)) {
      auto out = noop(*b);
      out.batch_id = b->batch_id;
      engine.on_outcome(out, now);
      ledger.apply(engine.take_events(), now);
    }
  }
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  return static_cast<double>(jobs * job_size) / secs;
}

std::pair<double, double> added_latency_us(std::size_t threads) {
  auto rt_ptr = start_noop_runtime(threads);
  auto& rt = *rt_ptr;
  for (int i = 0; i < 2'000; ++i) { // jobs of exactly one full batch
    auto r = rt.submit_job("read", make_ops(100));
    rt.wait(r.job_id, std::chrono::seconds{10});
  }
  auto board = rt.dashboard();
  rt.stop();
  const auto& m = board.at("batching_metrics").at("read");
  return {m.at("p50_latency_ms").to_number<double>() * 1000.0,
          m.at("p99_latency_ms").to_number<double>() * 1000.0};
}

int run_overhead(const std::vector<std::string>& args) {
  arguments parsed{
    args, {"--json", "--journal"}, {"--items", "--threads", "--payload-bytes"}};
  if (!parsed.error().empty())
    return usage_error("bench overhead", parsed.error());
  std::uint64_t items = 2'000'000;
  std::size_t threads = 2;
  try {
    if (auto v = parsed.value("--items"))
      items = std::stoull(*v);
    if (auto v = parsed.value("--threads"))
      threads = std::stoul(*v);
    if (auto v = parsed.value("--payload-bytes"))
      payload_bytes = std::stoul(*v);
  } catch (const std::exception&) {
    return usage_error("bench overhead",
                       "--items, --threads and --payload-bytes take numbers");
  }
  if (payload_bytes > 1'000'000)
    return usage_error("bench overhead", "--payload-bytes must be <= 1000000");
  if (items < 1'000 || threads < 1)
    return usage_error("bench overhead",
                       "--items must be >= 1000 and --threads >= 1");
  const std::uint64_t job_size = 100'000;
  progress_line line;
  line.show("tight loop...");
  auto tight = tight_loop_items_per_s(items, std::min(items, job_size));
  line.show("pipeline...");
  auto pipeline
    = pipeline_items_per_s(items, std::min(items, job_size), threads);
  line.show("latency...");
  auto [p50, p99] = added_latency_us(threads);
  const bool journal = parsed.has("--journal");
  double durable = 0, replay_s = 0;
  std::pair<double, double> submit_ms;
  if (journal) {
    scratch_dir dir;
    line.show("durable pipeline...");
    durable = pipeline_items_per_s(items, std::min(items, job_size), threads,
                                   dir.file("pipeline.journal"));
    line.show("submit latency with the journal...");
    submit_ms = journal_submit_latency_ms(threads, dir.file("submit.journal"));
    line.show("replay...");
    replay_s = replay_seconds(1'000'000, threads, dir.file("replay.journal"));
  }
  line.clear();
  if (parsed.has("--json")) {
    boost::json::object out{{"items", items},
                            {"threads", threads},
                            {"payload_bytes", payload_bytes},
                            {"pipeline_items_per_s", pipeline},
                            {"tight_loop_items_per_s", tight},
                            {"ratio", pipeline / tight},
                            {"added_latency_us", {{"p50", p50}, {"p99", p99}}}};
    if (journal) {
      out["durable_items_per_s"] = durable;
      out["durable_ratio"] = durable / pipeline;
      out["journal_submit_ms"]
        = {{"p50", submit_ms.first}, {"p99", submit_ms.second}};
      out["replay_1m_seconds"] = replay_s;
    }
    std::cout << to_json_text(out);
    return exit_ok;
  }
  std::cout << "items:                 " << items << " (threads: " << threads
            << ")\n"
            << "pipeline:              " << pipeline << " items/s\n"
            << "tight loop:            " << tight << " items/s\n"
            << "ratio:                 " << pipeline / tight << "\n"
            << "added latency (us):    p50 " << p50 << ", p99 " << p99 << "\n";
  if (journal)
    std::cout << "durable pipeline:      " << durable << " items/s (ratio "
              << durable / pipeline << ")\n"
              << "submit with journal:   p50 " << submit_ms.first << " ms, p99 "
              << submit_ms.second << " ms (jobs of 100)\n"
              << "replay of 1,000,000:   " << replay_s << " s\n";
  return exit_ok;
}

int run_sweep(const std::vector<std::string>& args) {
  const std::string cmd = "bench sweep";
  arguments parsed{args, {"--json"}, {"--batch-sizes", "--seed"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  if (parsed.positional().size() > 1)
    return usage_error(cmd, "expected at most one scenario file");
  auto path = parsed.positional().empty()
                ? sim::shipped_scenario_path("notion_steady")
                : parsed.positional()[0];
  std::vector<config::diagnostic> errors;
  auto sc = sim::load_scenario({path, {}, true}, errors);
  std::vector<std::uint32_t> sizes{10, 25, 50, 100, 200, 500};
  try {
    if (auto v = parsed.value("--seed"))
      sc.seed = std::stoull(*v);
    if (auto v = parsed.value("--batch-sizes"))
      sizes = parse_counts(*v);
  } catch (const std::exception&) {
    return usage_error(cmd, "--batch-sizes and --seed take whole numbers");
  }
  if (!errors.empty()) {
    for (const auto& e : errors)
      std::cerr << e.to_string() << '\n';
    return exit_usage;
  }
  // Our strategies, then static sizes behind our pacer.
  std::vector<sim::strategy_spec> candidates;
  for (auto name : {"adaptive", "balanced", "conservative", "aggressive"})
    candidates.push_back(*sim::find_strategy(name));
  for (auto size : sizes) {
    sim::strategy_spec s{"static_" + std::to_string(size), strategy_kind::fixed,
                         flow_kind::pacer};
    s.batch_size = size;
    candidates.push_back(s);
  }
  sim::sim_report rep;
  rep.sc = sc;
  rep.targets = shipped_targets();
  rep.baseline = "static_50"; // the seed's write batch
  sim::run_options opts;
  opts.series = false;
  progress_line line;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    line.show(candidates[i].name + " (" + std::to_string(i + 1) + "/"
              + std::to_string(candidates.size()) + ")");
    rep.results.push_back(sim::run_strategy(sc, candidates[i], opts));
  }
  line.clear();
  std::size_t best = 0;
  for (std::size_t i = 1; i < rep.results.size(); ++i)
    if (sim::better(rep.results[i], rep.results[best]))
      best = i;
  const auto& b = rep.results[best];
  std::vector<std::string> advice;
  advice.push_back(
    "best configuration: " + b.strategy + " ("
    + format_number(std::round(b.goodput)) + " operations/s, p99 "
    + format_number(std::round(b.p99_ms)) + " ms, 429s "
    + format_number(std::round(b.throttle_rate * 1e4) / 100) + "%)");
  for (const auto& r : rep.results)
    if (r.strategy.rfind("static_", 0) == 0 && r.goodput >= 0.97 * b.goodput
        && sim::acceptable(r)) {
      advice.push_back("smallest static batch size within 3% of the best: "
                       + r.strategy.substr(7));
      break;
    }
  std::string missed;
  for (const auto& r : rep.results)
    if (!r.slo_met)
      missed += (missed.empty() ? "" : ", ") + r.strategy;
  if (!missed.empty())
    advice.push_back("miss the p99 SLO here: " + missed);
  if (parsed.has("--json")) {
    auto out = sim::to_json(rep).as_object();
    out["best"] = b.strategy;
    boost::json::array rec;
    for (const auto& a : advice)
      rec.push_back(boost::json::value(a));
    out["recommendations"] = std::move(rec);
    std::cout << to_json_text(out) << '\n';
    return exit_ok;
  }
  std::cout << "scenario " << sc.name << " (seed " << sc.seed << ")\n"
            << sim::to_table(rep) << '\n';
  for (const auto& a : advice)
    std::cout << "- " << a << '\n';
  return exit_ok;
}

} // namespace

std::vector<command> bench_commands() {
  return {
    {"bench overhead", "measure the actor pipeline's cost per item",
     "Usage: batching bench overhead [--json] [--items N] [--threads N]\n"
     "                               [--journal] [--payload-bytes N]\n\n"
     "Pushes N operations (default 2000000) through the whole runtime with a\n"
     "no-op executor, unpaced, and through a single-threaded loop doing the\n"
     "same essential work without actors (ledger, batch assembly, no-op\n"
     "call, outcome); reports both rates, their ratio, and the latency the\n"
     "pipeline adds per item (p50, p99) for batches that close on size.\n\n"
     "Options:\n"
     "  --json        one JSON object: pipeline_items_per_s,\n"
     "                tight_loop_items_per_s, ratio, added_latency_us\n"
     "  --items N     operations per run (>= 1000)\n"
     "  --threads N   scheduler threads (default 2)\n"
     "  --journal     also with a job journal (sync full, in a temporary\n"
     "                directory): durable_items_per_s, durable_ratio,\n"
     "                journal_submit_ms (p50, p99; jobs of 100) and\n"
     "                replay_1m_seconds (start() on 1,000,000 queued)\n"
     "  --payload-bytes N  each operation's payload size (default 0)\n",
     run_overhead},
    {"bench sweep", "sweep strategies and batch sizes on a scenario",
     "Usage: batching bench sweep [SCENARIO.yaml] [--batch-sizes LIST]\n"
     "                            [--seed N] [--json]\n\n"
     "The seed's benchmark suite, in virtual time: runs our four strategies\n"
     "and static batch sizes (default 10,25,50,100,200,500, each behind our\n"
     "pacer) through the scenario (default sim/scenarios/notion_steady.yaml),\n"
     "prints goodput, 429 rate, p50/p99 and the SLO per configuration, the\n"
     "best one (meets the SLO with <= 1% 429s and the most goodput) and\n"
     "recommendations.\n",
     run_sweep},
    zoo_bench_command(),
  };
}

} // namespace batching::cli
