#pragma once

// Loads the YAML configuration files into a runtime_config. Files are applied
// in order, each key overriding the same key of earlier files (maps merge
// deeply: a file that sets only operation_configs.read.strategy keeps every
// other default). With an environment, each file's `environments.<name>`
// section is applied right after that file's base, overriding it the same way.
//
// Nothing is silently defaulted on bad input: every problem of every file is
// collected as a diagnostic with file:line:column and what was expected.

#include <string>
#include <string_view>
#include <vector>

#include "runtime/policy/settings.hpp"

namespace batching::config {

/// One problem in a configuration file. line/column are 1-based; 0 means the
/// problem has no position (e.g. a file that cannot be read).
struct diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  /// "file:line:column: error: message" (GNU style, editors jump to it).
  std::string to_string() const;

  bool operator==(const diagnostic&) const = default;
};

/// A YAML document to load, either from disk or from memory.
struct source {
  std::string name; // file path (or a label for in-memory text)
  std::string text; // contents; read from `name` when `from_disk`
  bool from_disk = true;
};

struct load_result {
  runtime_config config;
  std::vector<diagnostic> errors;
  /// Environment names defined by any of the files, sorted.
  std::vector<std::string> environments;

  bool ok() const { return errors.empty(); }
};

/// Loads and validates `files` (applied in order) with the overrides of
/// `environment` (empty: none). An unknown environment is an error.
load_result load(const std::vector<source>& files,
                 const std::string& environment = {});

/// Settings that do not take effect as written (not errors: the runtime
/// applies the tighter bound), one line each naming the key, e.g. a batch
/// size above what the type's backend accepts in one request, with the
/// effective ceiling.
std::vector<std::string> notes(const runtime_config& cfg);

/// Convenience: sources for paths on disk.
std::vector<source> from_paths(const std::vector<std::string>& paths);

/// Validates `files` as a set: the base, and the base with each environment
/// any file defines. Returns every distinct problem.
std::vector<diagnostic> check(const std::vector<source>& files);

/// The three files shipped in `dir` (batching_config.yaml,
/// resource_thresholds.yaml, performance_targets.yaml), those that exist.
std::vector<std::string> default_files(const std::string& dir);

/// The directory holding the shipped configuration: $BATCHING_CONFIG_DIR if
/// set, else ./config if it holds batching_config.yaml, else the installed
/// one (this build's SYSCONFDIR/batching, then the Debian package's
/// /etc/batching) if it does, else the source tree's config/ directory
/// this binary was built from.
std::string default_directory();

/// The environment to use: `cli_value` if not empty, else $BATCHING_ENV.
std::string select_environment(const std::string& cli_value);

/// Returns the valid name closest to `word`, or empty when none is close.
std::string closest_match(std::string_view word,
                          const std::vector<std::string>& candidates);

} // namespace batching::config
