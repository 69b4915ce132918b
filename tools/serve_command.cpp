// `batching serve`: the runtime behind its HTTP API (docs/http-api.md),
// sending batches to the configured HTTP backends; `batching run`: drain a
// file of operations into one HTTP API with a progress bar.

#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>

#include "config/loader.hpp"
#include "config/reader.hpp"
#include "runtime/http/http_api.hpp"
#include "runtime/http/http_executor.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/http/webhook_notifier.hpp"
#include "runtime/policy/batch_engine.hpp"
#include "runtime/policy/http_mapping.hpp"
#include "runtime/policy/text.hpp"
#include "runtime/storage/run_journal.hpp"
#include "tools/commands.hpp"

namespace batching::cli {

namespace {

// Gives every backend an operation type uses its HTTP executor; the
// problems otherwise.
std::vector<std::string> attach_http_executors(runtime& rt,
                                               const runtime_config& cfg) {
  std::vector<std::string> problems;
  std::set<std::string> used;
  for (const auto& [_, op] : cfg.operation_configs)
    used.insert(op.backend);
  for (const auto& name : used) {
    const auto& be = cfg.backends.at(name);
    if (be.http.url.empty()) {
      problems.push_back("backend '" + name + "' has no http.url (set backends."
                         + name + ".http.url to the API's URL)");
      continue;
    }
    try {
      auto exec = std::make_shared<http_executor>(be.http);
      rt.set_executor(name, http_executor::callback(exec),
                      exec->max_connections());
    } catch (const std::exception& e) {
      problems.push_back("backend '" + name + "': " + e.what());
    }
  }
  return problems;
}

// --no-resources.
runtime::options runtime_options(const arguments& parsed) {
  runtime::options opts;
  opts.sample_resources = !parsed.has("--no-resources");
  return opts;
}

// serve and run: --join makes this process a member of a cluster.
void join_as_member(const arguments& parsed, runtime_config& cfg) {
  apply_cluster_flags(parsed, cfg.cluster);
  if (parsed.value("--join") && cfg.cluster.role == cluster_role::none)
    cfg.cluster.role = cluster_role::member;
}

// --drain-seconds (default 30); false and a usage error when malformed.
bool drain_seconds(const arguments& parsed, const std::string& cmd,
                   double& seconds) {
  seconds = 30;
  if (auto d = parsed.value("--drain-seconds")) {
    try {
      seconds = std::stod(*d);
    } catch (const std::exception&) {
      usage_error(cmd, "--drain-seconds: expected seconds, got '" + *d + "'");
      return false;
    }
  }
  return true;
}

// Starts the runtime; false (and why on stderr) when it cannot, e.g. the
// budget authority to join is unreachable.
bool start_runtime(runtime& rt, const std::string& cmd) {
  try {
    rt.start();
    return true;
  } catch (const std::exception& e) {
    std::cerr << "batching " << cmd << ": " << e.what() << '\n';
    return false;
  }
}

// Where serve and a coordinator node keep their job journal when neither
// journal.path nor --journal says (docs/durability.md).
constexpr const char* default_job_journal = "batching.journal";

// The job journal of serve and a coordinator node: on by default
// (journal.path, else default_job_journal), --journal PATH, --no-journal,
// --journal-sync. False after a usage error.
bool apply_journal_flags(const std::string& cmd, const arguments& parsed,
                         journal_config& j) {
  if (auto v = parsed.value("--journal-sync")) {
    auto sync = parse_enum<journal_sync>(*v);
    if (!sync) {
      usage_error(cmd,
                  "--journal-sync: expected full or normal, got '" + *v + "'");
      return false;
    }
    j.sync = *sync;
  }
  if (parsed.has("--no-journal")) {
    if (parsed.value("--journal")) {
      usage_error(cmd, "--journal and --no-journal exclude each other");
      return false;
    }
    j.path.clear();
    return true;
  }
  if (auto v = parsed.value("--journal"))
    j.path = *v;
  if (j.path.empty())
    j.path = default_job_journal;
  return true;
}

// Runs the runtime behind the HTTP API on `listen` until SIGINT/SIGTERM
// (serve, and a coordinator node).
int serve_until_stopped(const std::string& cmd, runtime_config cfg,
                        const arguments& parsed, const host_port& listen,
                        double drain_s) {
  if (const char* token = std::getenv("BATCHING_SERVER_TOKEN"))
    cfg.server.token = token;
  if (!apply_journal_flags(cmd, parsed, cfg.journal))
    return exit_usage;
  auto stop_signals = stop_signals_blocked();
  runtime rt{cfg, runtime_options(parsed)};
  if (auto rc = start_with_http_executors(rt, cfg, cmd); rc != exit_ok)
    return rc;
  if (!cfg.journal.path.empty()) {
    auto r = rt.recovered();
    std::cout << "batching " << cmd << ": journal " << cfg.journal.path
              << " (sync " << to_string(cfg.journal.sync) << ")";
    if (r.jobs > 0)
      std::cout << ": resumed " << r.jobs << " unfinished job"
                << (r.jobs == 1 ? "" : "s") << " (" << r.operations
                << " operations to send)";
    std::cout << std::endl;
  }
  // Ids given to operations posted without one never repeat across
  // restarts (a backend may deduplicate by them).
  auto start_us = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count());
  http_api api{
    rt, {cfg.server.token, cfg.server.max_operations_per_job, 50, start_us}};
  std::unique_ptr<http_server> server;
  try {
    http_server::options so;
    so.host = listen.host;
    so.port = listen.port;
    so.max_body_bytes = cfg.server.max_body_bytes;
    server = std::make_unique<http_server>(
      so, [&api](const http_request& r) { return api.handle(r); });
  } catch (const std::exception& e) {
    std::cerr << "batching " << cmd << ": " << e.what() << '\n';
    rt.stop(std::chrono::seconds{1});
    return exit_failure;
  }
  auto host = listen.host.find(':') != std::string::npos
                ? "[" + listen.host + "]"
                : listen.host;
  if (rt.cluster_port() != 0) {
    auto at = parse_host_port(cfg.cluster.listen, nullptr);
    std::cout << "batching " << cmd << ": coordinator and budget authority on "
              << at->host << ':' << rt.cluster_port() << " ("
              << to_string(cfg.cluster.transport) << ")" << std::endl;
  }
  std::cout << "batching " << cmd << ": listening on http://" << host << ':'
            << server->port() << "/ (dashboard), API under /v1, "
            << "metrics at /metrics"
            << (cfg.server.token.empty() ? "" : "; bearer token required")
            << std::endl;
  wait_for(stop_signals);
  std::cout << "batching " << cmd << ": stopping (draining up to "
            << format_number(drain_s) << " s)" << std::endl;
  server->stop();
  bool drained = rt.stop(from_seconds(drain_s));
  std::cout << "batching " << cmd << ": stopped"
            << (drained                    ? ""
                : cfg.journal.path.empty() ? " (unfinished operations were "
                                             "cancelled)"
                                           : " (unfinished operations stay in "
                                             "the journal for the next start)")
            << std::endl;
  return exit_ok;
}

int run_serve(const std::vector<std::string>& args) {
  const std::string cmd = "serve";
  arguments parsed{args,
                   {"--no-resources", "--plain-tcp", "--no-journal"},
                   {"--config", "--config-dir", "--env", "--listen",
                    "--drain-seconds", "--join", "--node", "--tls-cert",
                    "--tls-key", "--tls-ca", "--journal", "--journal-sync"}};
  if (auto rejected = reject_bad_arguments(cmd, parsed))
    return *rejected;
  auto cfg = load_config(parsed, false);
  if (!cfg)
    return exit_usage;
  auto listen_text = parsed.value("--listen").value_or(cfg->server.listen);
  std::string why;
  auto listen = parse_host_port(listen_text, &why);
  if (!listen)
    return usage_error(cmd, "--listen: " + why);
  double drain_s = 30;
  if (!drain_seconds(parsed, cmd, drain_s))
    return exit_usage;
  join_as_member(parsed, *cfg);
  return serve_until_stopped(cmd, *cfg, parsed, *listen, drain_s);
}

// -- run ----------------------------------------------------------------------

// A counter of one operation type in the dashboard; 0 when absent (the
// dashboard did not answer in time).
std::uint64_t type_figure(const boost::json::value& board,
                          const std::string& type, const char* key) {
  auto* types = board.as_object().if_contains("batching_metrics");
  auto* figures = types ? types->as_object().if_contains(type) : nullptr;
  auto* value = figures ? figures->as_object().if_contains(key) : nullptr;
  return value ? value->to_number<std::uint64_t>() : 0;
}

// Opens (or, with `fresh`, replaces) the journal at `path` for the input
// fingerprinted `input` and drops from `ops` what it says was confirmed.
// None, after saying why, when it cannot be used.
std::optional<std::unique_ptr<run_journal>>
open_run_journal(const std::string& path, run_journal::sync_mode sync,
                 bool fresh, const input_fingerprint& input,
                 std::uint64_t destination, std::vector<operation>& ops) {
  try {
    if (fresh)
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix);
    auto journal = std::make_unique<run_journal>(path, sync);
    auto bound = journal->input();
    auto done = journal->confirmed(); // read once: it may hold millions
    // Nothing confirmed yet (a new journal, or a run that failed before any
    // answer): nothing to keep, whatever it was bound to.
    if (!bound || done.empty()) {
      journal->start(input, destination, ops.size());
      return journal;
    }
    if (*bound != input) {
      std::cerr << "batching run: the input changed since its journal '" << path
                << "' was written (" << done.size() << " of "
                << journal->total()
                << " operations confirmed then): its ids may now name other "
                   "operations. Pass --fresh to send everything again, or "
                   "--journal PATH to keep that journal\n";
      return std::nullopt;
    }
    if (journal->destination() != destination) {
      std::cerr << "batching run: the journal '" << path
                << "' belongs to a run of this input to another target or "
                   "operation type (what one API confirmed says nothing "
                   "about another). Pass --journal PATH to keep one per "
                   "target, or --fresh to start over\n";
      return std::nullopt;
    }
    std::erase_if(ops, [&](const operation& op) { return done.count(op.id); });
    return journal;
  } catch (const std::exception& e) {
    std::cerr << "batching run: " << e.what()
              << "\n  (--fresh replaces it, --journal PATH uses another, "
                 "--no-journal runs without one)\n";
    return std::nullopt;
  }
}

// `send`, recording each operation the backend accepted in `journal` before
// the outcome is handed on (accepted as the batch engine counts success). A
// confirmation that cannot be recorded is said once and otherwise only
// costs a resend after a crash.
sync_callback confirming(sync_callback send, run_journal& journal) {
  auto warned = std::make_shared<std::atomic<bool>>(false);
  return [send = std::move(send), &journal, warned](const batch& b) {
    auto outcome = send(b);
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < b.operations.size(); ++i)
      if (item_succeeded(outcome, i, b.operations.size()))
        ids.push_back(b.operations[i].id);
    try {
      journal.confirm(ids);
    } catch (const journal_error& e) {
      if (!warned->exchange(true))
        std::cerr << "batching run: " << e.what()
                  << " (operations it could not record are sent again if "
                     "the run is resumed)\n";
    }
    return outcome;
  };
}

struct run_totals {
  std::uint64_t total = 0, succeeded = 0, failed = 0, cancelled = 0;
  std::string last_error;
};

int run_run(const std::vector<std::string>& args) {
  const std::string cmd = "run";
  arguments parsed{args,
                   {"--no-resources", "--plain-tcp", "--fresh", "--no-journal"},
                   {"--input", "--target", "--type", "--priority", "--config",
                    "--env", "--header", "--body-template", "--method",
                    "--job-size", "--rate", "--timeout-seconds", "--join",
                    "--node", "--tls-cert", "--tls-key", "--tls-ca",
                    "--journal", "--journal-sync"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  auto input = parsed.value("--input");
  if (!input)
    return usage_error(cmd, "--input FILE.jsonl is required");
  auto cfg = load_config(parsed, true);
  if (!cfg)
    return exit_usage;
  auto type = parsed.value("--type").value_or("write");
  if (!config::detail::is_identifier(type))
    return usage_error(cmd, "--type: expected a name, got '" + type + "'");
  auto& op_cfg = cfg->operation_configs[type];
  auto& be = cfg->backends[op_cfg.backend];
  if (parsed.values("--config").empty()) {
    // Draining a file: full requests from the start, sized by `adaptive`.
    op_cfg.strategy = strategy_kind::adaptive;
    op_cfg.preferred_batch_size = be.max_items_per_request;
    op_cfg.max_batch_size
      = std::max(op_cfg.max_batch_size, be.max_items_per_request);
  }
  if (auto target = parsed.value("--target"))
    be.http.url = *target;
  if (be.http.url.empty())
    return usage_error(cmd, "--target URL is required (or backends."
                              + op_cfg.backend + ".http.url in --config)");
  for (const auto& h : parsed.values("--header")) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      return usage_error(cmd,
                         "--header: expected 'Name: value', got '" + h + "'");
    auto value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    be.http.headers[h.substr(0, colon)] = value;
  }
  if (auto t = parsed.value("--body-template"))
    be.http.body_template = *t;
  if (auto m = parsed.value("--method"))
    be.http.method = *m;
  std::uint64_t job_size = 10'000;
  double timeout_s = 0;
  try {
    if (auto r = parsed.value("--rate"))
      be.initial_requests_per_second = std::stod(*r);
    if (auto j = parsed.value("--job-size"))
      job_size = std::max<std::uint64_t>(1, std::stoull(*j));
    if (auto t = parsed.value("--timeout-seconds"))
      timeout_s = std::stod(*t);
  } catch (const std::exception&) {
    return usage_error(cmd, "--rate, --job-size and --timeout-seconds take "
                            "numbers");
  }
  auto prio = priority::normal;
  if (auto p = parsed.value("--priority")) {
    auto parsed_prio = parse_enum<priority>(*p);
    if (!parsed_prio)
      return usage_error(cmd, "--priority: expected one of "
                                + enum_choices<priority>());
    prio = *parsed_prio;
  }
  auto sync = run_journal::sync_mode::full;
  if (auto v = parsed.value("--journal-sync")) {
    if (*v != "full" && *v != "normal")
      return usage_error(cmd, "--journal-sync: expected full or normal, got '"
                                + *v + "'");
    sync = *v == "full" ? run_journal::sync_mode::full
                        : run_journal::sync_mode::normal;
  }
  // Every operation, read and checked before anything is sent.
  std::ifstream file{*input, std::ios::binary};
  if (!file) {
    std::cerr << "batching run: cannot read '" << *input << "'\n";
    return exit_usage;
  }
  const std::string bytes{std::istreambuf_iterator<char>{file}, {}};
  std::istringstream in{bytes};
  std::vector<operation> ops;
  std::string line;
  std::uint64_t line_no = 0, next = 1;
  auto next_id = [&] { return next++; };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::string why;
    auto where = *input + ":" + std::to_string(line_no);
    auto v = parse_json_text(line, why, where);
    operation op;
    if (!v || !operation_from_json(*v, where, next_id, op, why)) {
      std::cerr << "batching run: " << why << '\n';
      return exit_usage;
    }
    ops.push_back(std::move(op));
  }
  if (ops.empty()) {
    std::cerr << "batching run: '" << *input << "' holds no operations\n";
    return exit_usage;
  }
  std::shared_ptr<http_executor> exec;
  try {
    exec = std::make_shared<http_executor>(be.http);
  } catch (const std::exception& e) {
    return usage_error(cmd, e.what());
  }
  // The journal: what an earlier run of this input had confirmed is not
  // sent again (it outlives the runtime, whose executors write to it).
  std::unique_ptr<run_journal> journal;
  const auto all = ops.size();
  if (!parsed.has("--no-journal")) {
    auto path = parsed.value("--journal").value_or(*input + ".journal");
    auto destination = fingerprint_of(type + '\n' + be.http.url).hash;
    auto resumed = open_run_journal(path, sync, parsed.has("--fresh"),
                                    fingerprint_of(bytes), destination, ops);
    if (!resumed)
      return exit_usage;
    journal = std::move(*resumed);
    if (ops.size() < all)
      std::cout << "batching run: resuming from " << path << ": "
                << all - ops.size() << " of " << all
                << " operations were confirmed by an earlier run; sending "
                << ops.size() << std::endl;
    if (ops.empty()) {
      std::cout << "batching run: nothing left to send (--fresh sends "
                   "everything again)\n";
      return exit_ok;
    }
  }
  cfg->coordinator.max_queued_operations = std::max<std::uint64_t>(
    cfg->coordinator.max_queued_operations, ops.size());
  join_as_member(parsed, *cfg);
  // `run` keeps its own journal (of the input's confirmations): a job
  // journal would replay its jobs on the next run as well.
  cfg->journal.path.clear();
  runtime rt{*cfg, runtime_options(parsed)};
  const auto ops_resumed = all - ops.size();
  auto send = http_executor::callback(exec);
  if (journal)
    send = confirming(std::move(send), *journal);
  rt.set_executor(op_cfg.backend, std::move(send), exec->max_connections());
  if (!start_runtime(rt, cmd))
    return exit_failure;
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now()
                                         - started)
      .count();
  };
  std::vector<std::uint64_t> jobs;
  auto total = ops.size();
  for (std::size_t from = 0; from < ops.size(); from += job_size) {
    auto to = std::min<std::size_t>(ops.size(), from + job_size);
    std::vector<operation> part(std::make_move_iterator(ops.begin() + from),
                                std::make_move_iterator(ops.begin() + to));
    auto r = rt.submit_job(type, std::move(part), prio);
    if (!r) {
      std::cerr << "batching run: job rejected: " << to_string(r.error) << ": "
                << r.message << '\n';
      rt.stop(std::chrono::seconds{1});
      return exit_failure;
    }
    jobs.push_back(r.job_id);
  }
  std::cout << "batching run: " << total << " operations of type " << type
            << " to " << be.http.url << " (" << jobs.size()
            << (jobs.size() == 1 ? " job" : " jobs") << ")" << std::endl;
  progress_line progress;
  run_totals t;
  bool timed_out = false;
  for (;;) {
    t = {};
    bool all_done = true;
    for (auto id : jobs) {
      auto s = rt.status(id);
      if (!s)
        continue;
      t.total += s->total;
      t.succeeded += s->succeeded;
      t.failed += s->failed;
      t.cancelled += s->cancelled;
      if (!s->last_error.empty())
        t.last_error = s->last_error;
      all_done = all_done && s->state != job_state::waiting
                 && s->state != job_state::running;
    }
    auto done = t.succeeded + t.failed + t.cancelled;
    auto board = rt.dashboard();
    auto throttled = type_figure(board, type, "throttled");
    auto batch = type_figure(board, type, "current_batch_size");
    auto secs = elapsed();
    progress.show(
      std::to_string(done) + "/" + std::to_string(total) + " | "
        + format_number(std::round(t.succeeded / std::max(secs, 1e-9)))
        + " ops/s | batch " + std::to_string(batch) + " | 429s "
        + std::to_string(throttled) + " | failed " + std::to_string(t.failed),
      static_cast<double>(done), static_cast<double>(total));
    if (all_done)
      break;
    if (timeout_s > 0 && secs > timeout_s) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  progress.clear();
  auto board = rt.dashboard();
  auto requests = type_figure(board, type, "requests");
  auto throttled = type_figure(board, type, "throttled");
  auto secs = elapsed();
  rt.stop(std::chrono::seconds{timed_out ? 1 : 30});
  auto unfinished = total - (t.succeeded + t.failed + t.cancelled);
  std::cout << "batching run: " << t.succeeded << " succeeded, " << t.failed
            << " failed, " << t.cancelled + unfinished << " cancelled of "
            << total << " in " << format_number(std::round(secs * 10) / 10)
            << " s (" << format_number(std::round(t.succeeded / secs))
            << " ops/s); " << requests << " requests, " << throttled
            << " throttled (429/503)";
  if (ops_resumed > 0)
    std::cout << "; " << ops_resumed << " more confirmed by an earlier run";
  std::cout << '\n';
  if (!t.last_error.empty())
    std::cout << "batching run: last error: " << t.last_error << '\n';
  if (timed_out)
    std::cout << "batching run: stopped after --timeout-seconds\n";
  return t.succeeded == total ? exit_ok : exit_failure;
}

} // namespace

// Gives the runtime its HTTP executors and starts it: exit_ok, or the exit
// status after saying why not (exit_usage for the configuration,
// exit_failure when it cannot start).
int start_with_http_executors(runtime& rt, const runtime_config& cfg,
                              const std::string& cmd) {
  auto problems = attach_http_executors(rt, cfg);
  for (const auto& p : problems)
    std::cerr << "batching " << cmd << ": " << p << '\n';
  if (!problems.empty())
    return exit_usage;
  const auto& alerting = cfg.monitoring.alerting;
  if (alerting.enabled && !alerting.webhooks.empty()) {
    std::shared_ptr<webhook_notifier> hooks;
    try {
      auto node = cfg.cluster.node;
      if (node.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof(host) - 1);
        node = host;
      }
      hooks = std::make_shared<webhook_notifier>(alerting, node);
    } catch (const std::exception& e) {
      std::cerr << "batching " << cmd << ": monitoring.alerting: " << e.what()
                << '\n';
      return exit_usage;
    }
    // The runtime keeps the callback, and with it the notifier.
    rt.on_alert([hooks](const resource_alert& a) { hooks->notify(a); });
    std::cout << "batching " << cmd << ": alerts go to "
              << alerting.webhooks.size() << " webhook"
              << (alerting.webhooks.size() == 1 ? "" : "s") << std::endl;
  }
  return start_runtime(rt, cmd) ? exit_ok : exit_failure;
}

std::optional<runtime_config> load_config(const arguments& parsed,
                                          bool defaults_when_none) {
  auto files = parsed.values("--config");
  if (files.empty() && !defaults_when_none) {
    auto dir
      = parsed.value("--config-dir").value_or(config::default_directory());
    files = config::default_files(dir);
  }
  if (files.empty())
    return runtime_config{};
  auto env = config::select_environment(parsed.value("--env").value_or(""));
  auto result = config::load(config::from_paths(files), env);
  if (!result.ok()) {
    for (const auto& e : result.errors)
      std::cerr << e.to_string() << '\n';
    return std::nullopt;
  }
  return result.config;
}

void apply_cluster_flags(const arguments& parsed, cluster_config& c) {
  if (auto v = parsed.value("--join"))
    c.join = *v;
  if (auto v = parsed.value("--node"))
    c.node = *v;
  if (auto v = parsed.value("--tls-cert"))
    c.certificate = *v;
  if (auto v = parsed.value("--tls-key"))
    c.key = *v;
  if (auto v = parsed.value("--tls-ca"))
    c.ca_file = *v;
  if (parsed.has("--plain-tcp"))
    c.transport = cluster_transport::plain_tcp;
}

int run_coordinator_node(const arguments& parsed, runtime_config cfg) {
  const std::string cmd = "node";
  double drain_s = 30;
  if (!drain_seconds(parsed, cmd, drain_s))
    return exit_usage;
  std::string why;
  auto http
    = parse_host_port(parsed.value("--http").value_or(cfg.server.listen), &why);
  if (!http)
    return usage_error(cmd, "--http: " + why);
  return serve_until_stopped(cmd, std::move(cfg), parsed, *http, drain_s);
}

int run_worker_node(const arguments& parsed, runtime_config cfg) {
  const std::string cmd = "node";
  auto stop_signals = stop_signals_blocked();
  auto opts = runtime_options(parsed);
  // The runtime stops this node's work and keeps asking for the
  // coordinator; these only say so (from a CAF thread: one write each).
  auto join = cfg.cluster.join;
  opts.on_coordinator_lost = [join] {
    std::cerr << "batching node: lost the coordinator at " + join
                   + "; its work has moved (or went with it); asking again "
                     "every second\n"
              << std::flush;
  };
  opts.on_coordinator_rejoined = [join](std::uint32_t id) {
    std::cout << "batching node: worker rejoined the coordinator at " + join
                   + " as node " + std::to_string(id) + "\n"
              << std::flush;
  };
  runtime rt{cfg, opts};
  if (auto rc = start_with_http_executors(rt, cfg, cmd); rc != exit_ok)
    return rc;
  std::cout << "batching node: worker joined the coordinator at "
            << cfg.cluster.join << " for";
  for (const auto& [type, _] : cfg.operation_configs)
    std::cout << ' ' << type;
  std::cout << std::endl;
  wait_for(stop_signals);
  std::cout << "batching node: stopping" << std::endl;
  rt.stop(duration{0});
  return exit_ok;
}

std::vector<command> serve_commands() {
  return {
    {"serve", "serve the runtime's HTTP API, metrics and live dashboard",
     "Usage: batching serve [--config FILE.yaml]... [--config-dir DIR]\n"
     "                      [--env NAME] [--listen HOST:PORT]\n"
     "                      [--drain-seconds S] [--no-resources]\n"
     "                      [--join HOST:PORT] [--node NAME] [--tls-cert F\n"
     "                      --tls-key F --tls-ca F | --plain-tcp]\n"
     "                      [--journal PATH | --no-journal]\n"
     "                      [--journal-sync full|normal]\n"
     "\n"
     "Runs the runtime with the configured operation types, sending every\n"
     "batch as one HTTP request to its backend's http.url, and serves:\n"
     "  POST /v1/jobs, GET /v1/jobs[/ID], DELETE /v1/jobs/ID, GET\n"
     "  /v1/dashboard, GET /healthz, GET /metrics (Prometheus), GET / (live\n"
     "  dashboard). See docs/http-api.md and docs/metrics.md.\n"
     "\n"
     "A job is answered 202 only once the journal holds it; after a crash\n"
     "the same command resumes every unfinished job with its id (see\n"
     "docs/durability.md). A journal that cannot be written makes POST\n"
     "/v1/jobs answer 503 journal_unavailable.\n"
     "\n"
     "Options:\n"
     "  --config FILE        configuration file (repeatable, applied in\n"
     "                       order); default: the shipped files\n"
     "  --config-dir DIR     where the shipped files are\n"
     "  --env NAME           environment overrides (or BATCHING_ENV)\n"
     "  --listen HOST:PORT   address to bind (default server.listen,\n"
     "                       127.0.0.1:8080; port 0 picks a free one)\n"
     "  --drain-seconds S    on SIGINT/SIGTERM, wait this long for queued\n"
     "                       operations (default 30)\n"
     "  --no-resources       do not sample /proc\n"
     "  --join HOST:PORT     share the budget of a cluster's authority or\n"
     "                       coordinator node (docs/deployment.md)\n"
     "  --node NAME          this node's name there (default host:pid)\n"
     "  --tls-cert FILE      this node's certificate (PEM), and\n"
     "  --tls-key FILE       its key, and\n"
     "  --tls-ca FILE        the CA every node's certificate is signed by\n"
     "  --plain-tcp          no TLS between nodes (loopback testing only)\n"
     "  --journal PATH       the job journal (default journal.path, else\n"
     "                       ./batching.journal)\n"
     "  --no-journal         keep none: a crash loses every accepted job\n"
     "  --journal-sync M     full (default: an acknowledged job survives a\n"
     "                       power loss) or normal (a crash of the process)\n"
     "\n"
     "A configured server.token (or BATCHING_SERVER_TOKEN) makes POST and\n"
     "DELETE require 'Authorization: Bearer TOKEN'.\n"
     "\n"
     "Example:\n"
     "  batching serve --config my_api.yaml --listen 127.0.0.1:9000\n",
     run_serve},
    {"run", "drain a file of operations into an HTTP API",
     "Usage: batching run --input OPS.jsonl --target URL [--type NAME]\n"
     "                    [--priority P] [--header 'Name: value']...\n"
     "                    [--body-template T] [--method M] [--rate R]\n"
     "                    [--job-size N] [--timeout-seconds S]\n"
     "                    [--config FILE.yaml]... [--env NAME]\n"
     "                    [--join HOST:PORT] [--node NAME]\n"
     "                    [--journal PATH | --no-journal] [--fresh]\n"
     "                    [--journal-sync full|normal]\n"
     "\n"
     "Sends every line of OPS.jsonl (a JSON payload, or {\"id\": N,\n"
     "\"payload\": X}) through the runtime's HTTP executor: batched, paced to\n"
     "the API's limit (learned from its 429s), retried, with a progress bar\n"
     "and a final summary. Exits 0 only when every operation succeeded.\n"
     "Each operation the API accepted is recorded in a journal (SQLite)\n"
     "before its answer is used: the same command after a crash or a kill\n"
     "sends only what was not confirmed (the batches in flight then are\n"
     "sent again) and says how many it resumed; a changed input is refused.\n"
     "\n"
     "Options:\n"
     "  --input FILE       operations, one JSON value per line (required)\n"
     "  --target URL       http(s) URL each batch is sent to\n"
     "  --type NAME        operation type (default write)\n"
     "  --priority P       critical, high, normal (default) or low\n"
     "  --header H         extra request header (repeatable)\n"
     "  --body-template T  request body (default {{operations}}, the JSON\n"
     "                     array of the payloads; docs/http-api.md)\n"
     "  --method M         HTTP method (default POST)\n"
     "  --rate R           starting requests/s (default 3; 0 = unpaced\n"
     "                     until the first 429)\n"
     "  --job-size N       operations per job (default 10000)\n"
     "  --timeout-seconds S  give up after S seconds (default: never)\n"
     "  --journal PATH     the journal (default OPS.jsonl.journal)\n"
     "  --no-journal       keep none (a rerun sends everything)\n"
     "  --fresh            forget the journal's confirmations, send all\n"
     "  --journal-sync M   full (default: a confirmation survives a power\n"
     "                     loss) or normal (survives a crash of the\n"
     "                     process; faster)\n"
     "  --join HOST:PORT   share a cluster's budget (docs/deployment.md;\n"
     "                     --node, --tls-cert, --tls-key, --tls-ca and\n"
     "                     --plain-tcp as for `batching serve`)\n"
     "  --config FILE      configuration file(s) for everything else;\n"
     "                     without one, the type is sized by `adaptive`\n"
     "                     starting at full requests (100 items)\n"
     "\n"
     "Example:\n"
     "  batching run --input ops.jsonl --target http://127.0.0.1:8080/append\n",
     run_run},
  };
}

} // namespace batching::cli
