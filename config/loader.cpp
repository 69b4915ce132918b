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

#include <yaml-cpp/yaml.h>

#include "config/schema.hpp"
#include "runtime/policy/text.hpp"

namespace batching::config {

std::string diagnostic::to_string() const {
  std::string result = file;
  if (line > 0)
    result += ':' + std::to_string(line) + ':' + std::to_string(column);
  return result + ": error: " + message;
}

namespace {

// -- positions and messages ---------------------------------------------------

struct position {
  int line = 0; // 1-based, 0 = none
  int column = 0;
};

position position_of(const YAML::Mark& mark) {
  if (mark.is_null())
    return {};
  return {mark.line + 1, mark.column + 1};
}

/// Where a key's effective value came from (for cross-field errors).
struct origin {
  std::string file;
  position pos;
  std::string environment;
};

/// How a node looks, for "expected X, got Y" messages.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    default: return "nothing";
  }
}

/// Everything the readers of one file share.
struct context {
  std::string file;
  std::string environment; // empty: the file's base
  std::vector<diagnostic>* errors;
  std::map<std::string, origin>* origins;

  void error(position pos, std::string message) const {
    if (!environment.empty())
      message += " (environment '" + environment + "')";
    errors->push_back({file, pos.line, pos.column, std::move(message)});
  }

  void error(const YAML::Mark& mark, std::string message) const {
    error(position_of(mark), std::move(message));
  }

  void set_origin(const std::string& path, const YAML::Mark& mark) const {
    (*origins)[path] = origin{file, position_of(mark), environment};
  }
};

bool is_identifier(const std::string& name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z'))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// -- the reader: YAML node -> struct, one mapping at a time -------------------

class reader {
public:
  reader(YAML::Node node, std::string path, const context& ctx)
    : node_(std::move(node)), path_(std::move(path)), ctx_(ctx) {
    // nop
  }

  template <class T>
  void scalar(std::string_view key, T& field, bounds b, std::string_view,
              std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    constexpr bool whole = std::is_integral_v<T>;
    auto wrong_type = [&] {
      ctx_.error(e.mark, e.path
                           + (whole ? ": expected a whole number, got "
                                    : ": expected a number, got ")
                           + describe(e.value));
    };
    if (!e.value.IsScalar())
      return wrong_type();
    double number = 0;
    if constexpr (whole) {
      long long parsed = 0;
      if (!YAML::convert<long long>::decode(e.value, parsed))
        return wrong_type();
      number = static_cast<double>(parsed);
    } else {
      if (!YAML::convert<double>::decode(e.value, number)
          || !std::isfinite(number))
        return wrong_type();
    }
    if (number < b.min || (b.min_open && number == b.min) || number > b.max) {
      ctx_.error(e.mark, e.path + ": " + e.value.Scalar() + " is out of range "
                           + to_string(b));
      return;
    }
    field = static_cast<T>(number);
    ctx_.set_origin(e.path, e.mark);
  }

  template <class Enum>
  void choice(std::string_view key, Enum& field, std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    if (!e.value.IsScalar()) {
      ctx_.error(e.mark, e.path + ": expected one of " + enum_choices<Enum>()
                           + ", got " + describe(e.value));
      return;
    }
    auto text = e.value.Scalar();
    if (auto parsed = parse_enum<Enum>(text)) {
      field = *parsed;
      ctx_.set_origin(e.path, e.mark);
      return;
    }
    std::vector<std::string> names(enum_names<Enum>::names.begin(),
                                   enum_names<Enum>::names.end());
    auto message = e.path + ": unknown " + std::string{key} + " '" + text
                   + "' (expected one of: " + enum_choices<Enum>() + ")";
    if (auto close = closest_match(text, names); !close.empty())
      message += "; did you mean '" + close + "'?";
    ctx_.error(e.mark, std::move(message));
  }

  void name(std::string_view key, std::string& field, std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    if (!e.value.IsScalar() || !is_identifier(e.value.Scalar())) {
      ctx_.error(e.mark, e.path
                           + ": expected a name (lowercase letters, digits "
                             "and '_', starting with a letter), got "
                           + describe(e.value));
      return;
    }
    field = e.value.Scalar();
    ctx_.set_origin(e.path, e.mark);
  }

  template <class T>
  void section(std::string_view key, T& sub, std::string_view) {
    auto e = find(key);
    if (e.value && is_mapping(e.value, e.mark, e.path))
      descend(e.value, e.path, sub);
  }

  template <class T>
  void map(std::string_view key, std::map<std::string, T>& entries,
           std::string_view) {
    auto e = find(key);
    if (!e.value || !is_mapping(e.value, e.mark, e.path))
      return;
    std::set<std::string> seen;
    for (const auto& kv : e.value) {
      if (!kv.first.IsScalar()) {
        ctx_.error(kv.first.Mark(), e.path + ": keys must be plain names");
        continue;
      }
      auto name = kv.first.Scalar();
      if (!is_identifier(name)) {
        ctx_.error(kv.first.Mark(),
                   e.path + ": invalid name '" + name
                     + "' (use lowercase letters, digits and '_', starting "
                       "with a letter)");
        continue;
      }
      if (!seen.insert(name).second) {
        ctx_.error(kv.first.Mark(),
                   "duplicate key '" + name + "' in " + e.path);
        continue;
      }
      auto& entry = entries[name]; // new names start from the defaults
      auto path = e.path + "." + name;
      if (is_mapping(kv.second, kv.second.Mark(), path))
        descend(kv.second, path, entry);
    }
  }

  /// Declares a key handled outside the schema (the root's environments).
  void allow(std::string_view key) { valid_.emplace_back(key); }

  /// Reports keys that are unknown or appear twice in this mapping.
  void finish() {
    std::map<std::string, int> first_line;
    for (const auto& kv : node_) {
      const auto& key = kv.first;
      if (!key.IsScalar()) {
        ctx_.error(key.Mark(), "keys must be plain names " + where());
        continue;
      }
      auto name = key.Scalar();
      if (auto [it, fresh]
          = first_line.emplace(name, position_of(key.Mark()).line);
          !fresh) {
        ctx_.error(key.Mark(), "duplicate key '" + name + "' " + where()
                                 + " (first at line "
                                 + std::to_string(it->second) + ")");
        continue;
      }
      if (std::find(valid_.begin(), valid_.end(), name) != valid_.end())
        continue;
      auto message = "unknown key '" + name + "' " + where();
      if (auto close = closest_match(name, valid_); !close.empty())
        message += "; did you mean '" + close + "'?";
      else
        message += " (valid keys: " + join(valid_) + ")";
      ctx_.error(key.Mark(), std::move(message));
    }
  }

private:
  static std::string join(const std::vector<std::string>& names) {
    std::string result;
    for (const auto& name : names)
      result += (result.empty() ? "" : ", ") + name;
    return result;
  }

  std::string full(std::string_view key) const {
    return path_.empty() ? std::string{key} : path_ + "." + std::string{key};
  }

  std::string where() const {
    if (!path_.empty())
      return "in " + path_;
    if (!ctx_.environment.empty())
      return "in environments." + ctx_.environment;
    return "at top level";
  }

  /// A key's value, its full path, and where to report problems with it
  /// (the value's position, or the key's when the value has none).
  struct entry {
    YAML::Node value; // undefined when the key is absent
    std::string path;
    YAML::Mark mark;
  };

  /// The first value under `key` (duplicates are reported by finish()).
  entry find(std::string_view key) {
    valid_.emplace_back(key);
    for (const auto& kv : node_)
      if (kv.first.IsScalar() && kv.first.Scalar() == key)
        return {kv.second, full(key),
                kv.second.Mark().is_null() ? kv.first.Mark()
                                           : kv.second.Mark()};
    return {YAML::Node{YAML::NodeType::Undefined}, full(key),
            YAML::Mark::null_mark()};
  }

  /// Whether to read `value` as a mapping; reports anything else except
  /// an empty value (`key:` with nothing below is an empty mapping).
  bool is_mapping(const YAML::Node& value, const YAML::Mark& mark,
                  const std::string& path) const {
    if (value.IsMap())
      return true;
    if (!value.IsNull())
      ctx_.error(mark, path + ": expected a mapping, got " + describe(value));
    return false;
  }

  template <class T>
  void descend(const YAML::Node& value, const std::string& path, T& sub) {
    reader nested{value, path, ctx_};
    visit(sub, nested);
    nested.finish();
  }

  YAML::Node node_;
  std::string path_;
  const context& ctx_;
  std::vector<std::string> valid_;
};

// -- files --------------------------------------------------------------------

/// A parsed file: its root mapping, or nothing after reporting why.
struct parsed_file {
  std::string name;
  YAML::Node root; // a map, or undefined when unusable
  YAML::Node environments;
  YAML::Mark environments_mark = YAML::Mark::null_mark();
};

parsed_file parse(const source& src, std::vector<diagnostic>& errors) {
  parsed_file result{src.name, YAML::Node{YAML::NodeType::Undefined}, {}, {}};
  std::string text = src.text;
  if (src.from_disk) {
    std::ifstream in{src.name, std::ios::binary};
    if (!in) {
      errors.push_back(
        {src.name, 0, 0,
         "cannot read file: " + std::string{std::strerror(errno)}});
      return result;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    auto pos = position_of(e.mark);
    errors.push_back(
      {src.name, pos.line, pos.column, "malformed YAML: " + e.msg});
    return result;
  }
  if (docs.size() > 1) {
    auto pos = position_of(docs[1].Mark());
    errors.push_back({src.name, pos.line, pos.column,
                      "only one YAML document per file (a second starts "
                      "here)"});
    return result;
  }
  if (docs.empty() || docs[0].IsNull()) {
    result.root = YAML::Node{YAML::NodeType::Map}; // empty file: all defaults
    return result;
  }
  if (!docs[0].IsMap()) {
    auto pos = position_of(docs[0].Mark());
    errors.push_back(
      {src.name, pos.line, pos.column,
       "expected a mapping at top level, got " + describe(docs[0])});
    return result;
  }
  result.root = docs[0];
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
  }
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
  return BATCHING_SOURCE_CONFIG_DIR;
}

std::string select_environment(const std::string& cli_value) {
  if (!cli_value.empty())
    return cli_value;
  if (const char* env = std::getenv("BATCHING_ENV"); env)
    return env;
  return {};
}

} // namespace batching::config
