#pragma once

// The `batching` CLI's argument handling: a table of commands, each with its
// own --help, and a small parser for "--flag", "--option VALUE" /
// "--option=VALUE" (repeatable) and positional arguments. Usage errors print
// the problem and a hint to stderr and exit with code 2.

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace batching::cli {

/// Exit codes of every command.
enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1, // the command ran and failed
  exit_usage = 2,   // bad arguments or invalid input files
};

/// Parsed arguments of one command.
class arguments {
public:
  /// Parses `args` knowing which options take a value and which are flags.
  /// On error, `error()` says what was wrong.
  arguments(const std::vector<std::string>& args,
            const std::set<std::string>& flags,
            const std::set<std::string>& options);

  bool has(const std::string& flag) const { return flags_.count(flag) > 0; }

  /// The last value of an option, if given.
  std::optional<std::string> value(const std::string& option) const;

  /// Every value of a repeatable option, in order.
  std::vector<std::string> values(const std::string& option) const;

  const std::vector<std::string>& positional() const { return positional_; }

  const std::string& error() const { return error_; }

private:
  std::set<std::string> flags_;
  std::multimap<std::string, std::string> options_;
  std::vector<std::string> option_order_;
  std::vector<std::string> positional_;
  std::string error_;
};

/// One command: `path` is e.g. "config check".
struct command {
  std::string path;
  std::string summary; // one line for the command list
  std::string help;    // full --help text: usage, options, examples
  std::function<int(const std::vector<std::string>&)> run;
};

/// Dispatches argv to the longest matching command path; prints help for
/// --help/-h and group listings (e.g. `batching config`).
int dispatch(const std::vector<command>& commands, int argc, char** argv);

/// The options a command's --help names (every `--word`), sorted: what
/// completion offers, read from the one text users read.
std::vector<std::string> options_of(const command& cmd);

/// A bash completion script for `commands`: command words, then each
/// command's options (options_of) and file names.
std::string bash_completion(const std::vector<command>& commands);

/// Prints "batching <path>: <message> (try 'batching <path> --help')" to
/// stderr and returns exit_usage.
int usage_error(const std::string& path, const std::string& message);

/// For a command that takes no positional arguments: the usage error
/// (printed, exit_usage) for a parse error or a positional argument, else
/// nothing.
std::optional<int> reject_bad_arguments(const std::string& path,
                                        const arguments& parsed);

/// The comma-separated pieces of an option's value ("a,b" -> {"a", "b"}).
std::vector<std::string> split_list(const std::string& text);

/// Comma-separated whole numbers; throws std::exception on a piece that is
/// not one.
std::vector<std::uint32_t> parse_counts(const std::string& text);

/// Writes `text` to `path`; false when it cannot.
bool write_file(const std::string& path, const std::string& text);

/// Blocks SIGINT and SIGTERM in this thread and every thread started from
/// here on (call it before starting any), so wait_for() can take them.
sigset_t stop_signals_blocked();

/// Waits until one of `signals` arrives.
void wait_for(const sigset_t& signals);

/// One status line on stderr, redrawn in place, when stderr is a terminal;
/// nothing otherwise (long runs stay quiet in pipes and logs).
class progress_line {
public:
  progress_line();

  /// Replaces the line with `what`.
  void show(const std::string& what);

  /// Replaces the line with a bar of done/total and `what`.
  void show(const std::string& what, double done, double total);

  void clear();

private:
  bool tty_;
};

} // namespace batching::cli
