#include "config/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <type_traits>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/reader.hpp"
#include "config/schema.hpp"
#include "runtime/policy/batch_engine.hpp"
#include "runtime/policy/http_mapping.hpp"
#include "runtime/policy/text.hpp"

namespace batching::config {

std::string diagnostic::to_string() const {
  std::string result = file;
  if (line > 0)
    result += ':' + std::to_string(line) + ':' + std::to_string(column);
  return result + ": error: " + message;
}

namespace detail {

namespace {

/// yaml-cpp 0.7 (Debian 12's) loops for ever, allocating until the process
/// is killed, on some malformed streams: a ',' at the top level is read as
/// one empty document after another (jbeder/yaml-cpp#1040, fixed in 0.8).
/// A stream of N bytes makes at most a few events per byte, so a first
/// pass counts them and stops the parse past a bound linear in N.
class bounded_events final : public YAML::EventHandler {
public:
  explicit bounded_events(std::size_t limit) : limit_(limit) {
    // nop
  }
  void OnDocumentStart(const YAML::Mark& m) override { tick(m); }
  void OnDocumentEnd() override { tick(last_); }
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { tick(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { tick(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    tick(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    tick(m);
  }
  void OnSequenceEnd() override { tick(last_); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    tick(m);
  }
  void OnMapEnd() override { tick(last_); }

private:
  void tick(const YAML::Mark& m) {
    last_ = m;
    if (++events_ > limit_)
      throw YAML::ParserException(m, "the parser stopped advancing here "
                                     "(a stray ',' or flow indicator?)");
  }

  std::size_t limit_;
  std::size_t events_ = 0;
  YAML::Mark last_ = YAML::Mark::null_mark();
};

/// Throws YAML::ParserException where `text` would make yaml-cpp loop.
void check_parser_advances(const std::string& text) {
  std::istringstream in{text};
  YAML::Parser parser{in};
  bounded_events events{8 * text.size() + 64};
  while (parser.HandleNextDocument(events)) {
    // each document's events are counted
  }
}

} // namespace

YAML::Node parse_root(const source& src, std::vector<diagnostic>& errors) {
  YAML::Node none{YAML::NodeType::Undefined};
  std::string text = src.text;
  if (src.from_disk) {
    std::ifstream in{src.name, std::ios::binary};
    if (!in) {
      errors.push_back(
        {src.name, 0, 0,
         "cannot read file: " + std::string{std::strerror(errno)}});
      return none;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  std::vector<YAML::Node> docs;
  try {
    check_parser_advances(text);
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    auto pos = position_of(e.mark);
    errors.push_back(
      {src.name, pos.line, pos.column, "malformed YAML: " + e.msg});
    return none;
  }
  if (docs.size() > 1) {
    auto pos = position_of(docs[1].Mark());
    errors.push_back({src.name, pos.line, pos.column,
                      "only one YAML document per file (a second starts "
                      "here)"});
    return none;
  }
  if (docs.empty() || docs[0].IsNull())
    return YAML::Node{YAML::NodeType::Map}; // empty file: all defaults
  if (!docs[0].IsMap()) {
    auto pos = position_of(docs[0].Mark());
    errors.push_back(
      {src.name, pos.line, pos.column,
       "expected a mapping at top level, got " + describe(docs[0])});
    return none;
  }
  return docs[0];
}

} // namespace detail

namespace {

using namespace detail;

// -- files --------------------------------------------------------------------

/// A parsed file: its root mapping, or nothing after reporting why.
struct parsed_file {
  std::string name;
  YAML::Node root; // a map, or undefined when unusable
  YAML::Node environments;
  YAML::Mark environments_mark = YAML::Mark::null_mark();
};

parsed_file parse(const source& src, std::vector<diagnostic>& errors) {
  parsed_file result{src.name, parse_root(src, errors), {}, {}};
  if (!result.root.IsDefined())
    return result;
  for (const auto& kv : result.root) {
    if (kv.first.IsScalar() && kv.first.Scalar() == environments_key) {
      result.environments = kv.second;
      result.environments_mark = kv.first.Mark();
      break;
    }
  }
  return result;
}

/// Reads one mapping (a file's base or one environment's overrides).
void apply(const YAML::Node& root, const context& ctx, runtime_config& cfg,
           bool is_base) {
  reader rd{root, "", ctx};
  visit(cfg, rd);
  if (is_base)
    rd.allow(environments_key);
  rd.finish();
}

/// Names of the environments a file defines; reports a malformed section.
std::vector<std::string> environment_names(const parsed_file& f,
                                           std::vector<diagnostic>& errors) {
  std::vector<std::string> names;
  const auto& envs = f.environments;
  if (!envs || envs.IsNull())
    return names;
  if (!envs.IsMap()) {
    auto pos = position_of(envs.Mark());
    errors.push_back({f.name, pos.line, pos.column,
                      "environments: expected a mapping of environment "
                      "names, got "
                        + describe(envs)});
    return names;
  }
  for (const auto& kv : envs) {
    auto pos = position_of(kv.first.Mark());
    if (!kv.first.IsScalar() || !is_identifier(kv.first.Scalar())) {
      errors.push_back(
        {f.name, pos.line, pos.column,
         "environments: invalid environment name " + describe(kv.first)});
      continue;
    }
    if (!kv.second.IsMap() && !kv.second.IsNull()) {
      auto vpos = position_of(kv.second.Mark());
      errors.push_back({f.name, vpos.line, vpos.column,
                        "environments." + kv.first.Scalar()
                          + ": expected a mapping, got "
                          + describe(kv.second)});
      continue;
    }
    names.push_back(kv.first.Scalar());
  }
  return names;
}

// -- cross-field rules --------------------------------------------------------

class rule_checker {
public:
  rule_checker(const std::map<std::string, origin>& origins,
               std::vector<diagnostic>& errors, std::string fallback_file)
    : origins_(origins), errors_(errors), fallback_(std::move(fallback_file)) {
    // nop
  }

  /// Requires lower <= upper (or < when strict), reported at the lower
  /// key when a file set it, else at the upper key.
  void ordered(const std::string& lower_key, double lower,
               const std::string& upper_key, double upper, bool strict) {
    if (strict ? lower < upper : lower <= upper)
      return;
    auto message = lower_key + " (" + format_number(lower) + ") must be "
                   + (strict ? "less than " : "at most ") + upper_key + " ("
                   + format_number(upper) + ")";
    fail(origins_.count(lower_key) ? lower_key : upper_key, std::move(message));
  }

  /// Reports `message` at the position a file gave `key`.
  void fail(const std::string& key, std::string message) {
    auto it = origins_.find(key);
    origin where
      = it != origins_.end() ? it->second : origin{fallback_, {}, {}};
    if (!where.environment.empty())
      message += " (environment '" + where.environment + "')";
    errors_.push_back(
      {where.file, where.pos.line, where.pos.column, std::move(message)});
  }

private:
  const std::map<std::string, origin>& origins_;
  std::vector<diagnostic>& errors_;
  std::string fallback_;
};

void check_rules(const runtime_config& cfg,
                 const std::map<std::string, origin>& origins,
                 std::vector<diagnostic>& errors, const std::string& file) {
  rule_checker rules{origins, errors, file};
  const auto& b = cfg.batching;
  rules.ordered("batching.min_batch_size", b.min_batch_size,
                "batching.max_batch_size", b.max_batch_size, false);
  for (const auto& [name, op] : cfg.operation_configs) {
    auto prefix = "operation_configs." + name + ".";
    rules.ordered(prefix + "preferred_batch_size", op.preferred_batch_size,
                  prefix + "max_batch_size", op.max_batch_size, false);
    rules.ordered("batching.min_batch_size", b.min_batch_size,
                  prefix + "preferred_batch_size", op.preferred_batch_size,
                  false);
    rules.ordered(prefix + "preferred_batch_size", op.preferred_batch_size,
                  "batching.max_batch_size", b.max_batch_size, false);
  }
  for (const auto& [name, op] : cfg.operation_configs) {
    if (cfg.backends.count(op.backend))
      continue;
    auto key = "operation_configs." + name + ".backend";
    rules.fail(key, key + ": unknown backend '" + op.backend
                      + "' (not a key of backends)");
  }
  for (const auto& [name, be] : cfg.backends) {
    auto prefix = "backends." + name + ".";
    rules.ordered(prefix + "retry_base_ms", be.retry_base_ms,
                  prefix + "retry_max_ms", be.retry_max_ms, false);
    const auto& h = be.http;
    std::string why;
    if (!h.url.empty() && !parse_url(h.url, &why))
      rules.fail(prefix + "http.url", prefix + "http.url: " + why);
    if (auto problem = check_body_template(h.body_template); !problem.empty())
      rules.fail(prefix + "http.body_template",
                 prefix + "http.body_template: " + problem);
    bool token = !h.method.empty();
    for (char c : h.method)
      token = token && c >= 'A' && c <= 'Z';
    if (!token)
      rules.fail(prefix + "http.method", prefix
                                           + "http.method: expected an "
                                             "HTTP method in capitals (POST, "
                                             "PUT, ...), got '"
                                           + h.method + "'");
  }
  for (const auto& hook : cfg.monitoring.alerting.webhooks) {
    auto key = "monitoring.alerting.webhooks." + hook.first;
    if (std::string why; !parse_url(hook.second, &why))
      rules.fail(key, key + ": " + why);
  }
  if (std::string why; !parse_host_port(cfg.server.listen, &why))
    rules.fail("server.listen", "server.listen: " + why);
  for (auto [key, value] : {std::pair{"cluster.listen", &cfg.cluster.listen},
                            std::pair{"cluster.join", &cfg.cluster.join}})
    if (std::string why; !value->empty() && !parse_host_port(*value, &why))
      rules.fail(key, std::string{key} + ": " + why);
  auto role = cfg.cluster.role;
  if ((role == cluster_role::member || role == cluster_role::worker)
      && cfg.cluster.join.empty())
    rules.fail("cluster.role", "cluster.role " + to_string(role)
                                 + " needs cluster.join (the host:port of "
                                   "the authority or coordinator)");
  const auto& r = cfg.resource_thresholds;
  for (auto [name, levels] :
       {std::pair{"cpu", &r.cpu}, std::pair{"memory", &r.memory},
        std::pair{"network", &r.network}, std::pair{"disk", &r.disk}}) {
    auto prefix = std::string{"resource_thresholds."} + name + ".";
    rules.ordered(prefix + "warning", levels->warning, prefix + "critical",
                  levels->critical, true);
  }
  rules.ordered(
    "scaling.scale_down.cpu_threshold", cfg.scaling.scale_down.cpu_threshold,
    "scaling.scale_up.cpu_threshold", cfg.scaling.scale_up.cpu_threshold, true);
  const auto& t = cfg.performance_targets;
  rules.ordered(
    "performance_targets.average_response_time_ms", t.average_response_time_ms,
    "performance_targets.p99_response_time_ms", t.p99_response_time_ms, false);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    auto diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace

std::string closest_match(std::string_view word,
                          const std::vector<std::string>& candidates) {
  std::string best;
  auto best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& candidate : candidates) {
    auto d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // Close enough to be a typo: a third of the word, at least 2 edits.
  auto limit = std::max<std::size_t>(2, word.size() / 3);
  if (best_distance <= limit)
    return best;
  // Or an abbreviation ("prod" for "production").
  for (const auto& candidate : candidates)
    if (word.size() >= 3 && candidate.rfind(word, 0) == 0)
      return candidate;
  return {};
}

load_result load(const std::vector<source>& files,
                 const std::string& environment) {
  load_result result;
  std::map<std::string, origin> origins;
  std::vector<parsed_file> parsed;
  std::set<std::string> defined;
  for (const auto& src : files) {
    auto f = parse(src, result.errors);
    for (auto& name : environment_names(f, result.errors))
      defined.insert(std::move(name));
    parsed.push_back(std::move(f));
  }
  result.environments.assign(defined.begin(), defined.end());
  if (!environment.empty() && !defined.count(environment)) {
    // Point at the first environments section, else the first file.
    auto it = std::find_if(parsed.begin(), parsed.end(), [](const auto& f) {
      return !f.environments_mark.is_null();
    });
    std::string file
      = files.empty() ? std::string{"<no files>"} : files.front().name;
    position pos{1, 1};
    if (it != parsed.end()) {
      file = it->name;
      pos = position_of(it->environments_mark);
    }
    auto message = "unknown environment '" + environment + "'";
    if (auto close = closest_match(environment, result.environments);
        !close.empty())
      message += "; did you mean '" + close + "'?";
    else if (result.environments.empty())
      message += " (no environments are defined)";
    else {
      message += " (defined: ";
      for (std::size_t i = 0; i < result.environments.size(); ++i)
        message += (i ? ", " : "") + result.environments[i];
      message += ")";
    }
    result.errors.push_back({file, pos.line, pos.column, std::move(message)});
  }
  for (const auto& f : parsed) {
    if (!f.root)
      continue;
    context base{f.name, {}, &result.errors, &origins};
    apply(f.root, base, result.config, true);
    if (environment.empty() || !f.environments || !f.environments.IsMap())
      continue;
    for (const auto& kv : f.environments) {
      if (kv.first.IsScalar() && kv.first.Scalar() == environment
          && kv.second.IsMap()) {
        context env{f.name, environment, &result.errors, &origins};
        apply(kv.second, env, result.config, false);
        break;
      }
    }
  }
  check_rules(result.config, origins, result.errors,
              files.empty() ? std::string{"<no files>"} : files.front().name);
  // Report in reading order: by file as given, then by position.
  auto file_index = [&](const std::string& name) {
    auto it = std::find_if(files.begin(), files.end(),
                           [&](const source& s) { return s.name == name; });
    return it - files.begin();
  };
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [&](const diagnostic& a, const diagnostic& b) {
                     return std::tuple{file_index(a.file), a.line, a.column}
                            < std::tuple{file_index(b.file), b.line, b.column};
                   });
  return result;
}

std::vector<source> from_paths(const std::vector<std::string>& paths) {
  std::vector<source> result;
  for (const auto& path : paths)
    result.push_back({path, {}, true});
  return result;
}

std::vector<diagnostic> check(const std::vector<source>& files) {
  auto base = load(files);
  auto errors = base.errors;
  for (const auto& env : base.environments)
    for (auto& err : load(files, env).errors)
      if (std::find(errors.begin(), errors.end(), err) == errors.end())
        errors.push_back(std::move(err));
  return errors;
}

std::vector<std::string> default_files(const std::string& dir) {
  std::vector<std::string> result;
  for (const char* name : {"batching_config.yaml", "resource_thresholds.yaml",
                           "performance_targets.yaml"}) {
    auto path = std::filesystem::path{dir} / name;
    if (std::filesystem::exists(path))
      result.push_back(path.string());
  }
  return result;
}

std::string default_directory() {
  if (const char* dir = std::getenv("BATCHING_CONFIG_DIR"); dir && *dir)
    return dir;
  if (std::filesystem::exists("config/batching_config.yaml"))
    return "config";
  // Installed (this build's prefix, or the Debian package's /etc),
  // else the source tree's.
  for (const char* dir : {BATCHING_INSTALL_CONFIG_DIR, "/etc/batching"})
    if (std::filesystem::exists(std::string{dir} + "/batching_config.yaml"))
      return dir;
  return BATCHING_SOURCE_CONFIG_DIR;
}

std::string select_environment(const std::string& cli_value) {
  if (!cli_value.empty())
    return cli_value;
  if (const char* env = std::getenv("BATCHING_ENV"); env)
    return env;
  return {};
}

std::vector<std::string> notes(const runtime_config& cfg) {
  std::vector<std::string> out;
  for (const auto& entry : cfg.operation_configs) {
    // (Named, not bound: clang 14 cannot capture structured bindings.)
    const auto& type = entry.first;
    const auto& op = entry.second;
    auto be = cfg.backends.find(op.backend);
    if (be == cfg.backends.end())
      continue; // an error, reported by the loader
    auto ceiling = batch_engine::batch_ceiling(cfg, type);
    auto cap = be->second.max_items_per_request;
    auto where = "operation_configs." + type + ".";
    auto over = [&](const char* key, std::uint32_t value) {
      out.push_back(where + key + ": " + std::to_string(value)
                    + " exceeds backends." + op.backend
                    + ".max_items_per_request (" + std::to_string(cap)
                    + "): a batch is one request, so " + type
                    + " batches carry at most " + std::to_string(ceiling));
    };
    if (op.max_batch_size > cap)
      over("max_batch_size", op.max_batch_size);
    if (op.preferred_batch_size > cap)
      over("preferred_batch_size", op.preferred_batch_size);
  }
  const auto& alerting = cfg.monitoring.alerting;
  if (alerting.email_notifications)
    out.push_back("monitoring.alerting.email_notifications: no e-mail is "
                  "sent; add a webhook (monitoring.alerting.webhooks: {name: "
                  "URL}: most mail and chat services take one) or forward "
                  "alerts from the on_alert callback");
  if (alerting.enabled && alerting.webhooks.empty())
    out.push_back("monitoring.alerting.enabled: no webhooks configured; "
                  "alerts reach only the dashboard, /metrics, stderr and "
                  "on_alert");
  return out;
}

} // namespace batching::config
