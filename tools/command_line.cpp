#include "tools/command_line.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <set>
#include <sstream>
#include <unistd.h>

namespace batching::cli {

arguments::arguments(const std::vector<std::string>& args,
                     const std::set<std::string>& flags,
                     const std::set<std::string>& options) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--") {
      positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional_.push_back(arg);
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(0, eq);
    if (flags.count(name)) {
      if (eq != std::string::npos) {
        error_ = "option '" + name + "' takes no value";
        return;
      }
      flags_.insert(name);
    } else if (options.count(name)) {
      std::string value;
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        error_ = "option '" + name + "' needs a value";
        return;
      }
      options_.emplace(name, value);
    } else {
      error_ = "unknown option '" + name + "'";
      return;
    }
  }
}

std::optional<std::string> arguments::value(const std::string& option) const {
  auto all = values(option);
  if (all.empty())
    return std::nullopt;
  return all.back();
}

std::vector<std::string> arguments::values(const std::string& option) const {
  std::vector<std::string> result;
  auto [first, last] = options_.equal_range(option);
  for (auto it = first; it != last; ++it)
    result.push_back(it->second);
  return result;
}

int usage_error(const std::string& path, const std::string& message) {
  std::cerr << "batching " << path << ": " << message << " (try 'batching "
            << path << " --help')\n";
  return exit_usage;
}

std::optional<int> reject_bad_arguments(const std::string& path,
                                        const arguments& parsed) {
  if (!parsed.error().empty())
    return usage_error(path, parsed.error());
  if (!parsed.positional().empty())
    return usage_error(path, "unexpected argument '"
                               + parsed.positional().front() + "'");
  return std::nullopt;
}

namespace {

bool is_help(const std::string& arg) { return arg == "--help" || arg == "-h"; }

void list_commands(const std::vector<command>& commands,
                   const std::string& prefix, std::ostream& out) {
  std::size_t width = 0;
  for (const auto& cmd : commands)
    if (cmd.path.rfind(prefix, 0) == 0)
      width = std::max(width, cmd.path.size());
  for (const auto& cmd : commands)
    if (cmd.path.rfind(prefix, 0) == 0)
      out << "  batching " << cmd.path
          << std::string(width - cmd.path.size() + 2, ' ') << cmd.summary
          << '\n';
}

} // namespace

int dispatch(const std::vector<command>& commands, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Longest command path that prefixes the arguments.
  const command* best = nullptr;
  std::size_t best_words = 0;
  for (const auto& cmd : commands) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start <= cmd.path.size()) {
      auto end = cmd.path.find(' ', start);
      if (end == std::string::npos)
        end = cmd.path.size();
      words.push_back(cmd.path.substr(start, end - start));
      start = end + 1;
    }
    if (words.size() <= args.size() && words.size() > best_words
        && std::equal(words.begin(), words.end(), args.begin())) {
      best = &cmd;
      best_words = words.size();
    }
  }
  if (best) {
    std::vector<std::string> rest(args.begin() + best_words, args.end());
    if (std::any_of(rest.begin(), rest.end(), is_help)) {
      std::cout << best->help;
      return exit_ok;
    }
    return best->run(rest);
  }
  // A group (e.g. `batching config`) or the top level: list what exists.
  std::string prefix;
  for (const auto& arg : args) {
    if (arg.empty() || arg[0] == '-')
      break;
    auto candidate = prefix.empty() ? arg : prefix + " " + arg;
    bool known = std::any_of(commands.begin(), commands.end(), [&](auto& c) {
      return c.path.rfind(candidate + " ", 0) == 0;
    });
    if (!known)
      break;
    prefix = candidate;
  }
  bool help = std::any_of(args.begin(), args.end(), is_help);
  std::size_t prefix_words
    = prefix.empty() ? 0 : std::count(prefix.begin(), prefix.end(), ' ') + 1;
  bool bare = args.size() == prefix_words;
  auto& out = help ? std::cout : std::cerr;
  if (!help && !bare) {
    std::cerr << "batching: unknown command '";
    for (std::size_t i = 0; i < args.size(); ++i)
      std::cerr << (i ? " " : "") << args[i];
    std::cerr << "'\n\n";
  }
  out << "batching: an adaptive batching runtime for rate-limited backends\n\n"
      << "Usage: batching " << (prefix.empty() ? "" : prefix + " ")
      << "COMMAND [OPTIONS]\n\nCommands:\n";
  list_commands(commands, prefix.empty() ? "" : prefix + " ", out);
  out << "\nEvery command accepts --help; batching --version prints the "
         "version.\n";
  return help ? exit_ok : exit_usage;
}

std::vector<std::string> options_of(const command& cmd) {
  std::set<std::string> found{"--help"};
  const auto& h = cmd.help;
  for (std::size_t i = 0; i + 2 < h.size(); ++i) {
    bool start = h.compare(i, 2, "--") == 0
                 && (i == 0 || h[i - 1] == ' ' || h[i - 1] == '['
                     || h[i - 1] == '\n' || h[i - 1] == '|');
    if (!start || !std::islower(static_cast<unsigned char>(h[i + 2])))
      continue;
    auto end = i + 2;
    while (end < h.size()
           && (std::islower(static_cast<unsigned char>(h[end]))
               || std::isdigit(static_cast<unsigned char>(h[end]))
               || h[end] == '-'))
      ++end;
    while (h[end - 1] == '-')
      --end;
    found.insert(h.substr(i, end - i));
    i = end;
  }
  return {found.begin(), found.end()};
}

std::string bash_completion(const std::vector<command>& commands) {
  // Generated: command words and options come from the commands and their
  // --help texts, so completion cannot drift from what --help says.
  std::ostringstream out;
  out << "# bash completion for batching (generated by `batching completion`)\n"
      << "_batching() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]}\n"
      << "  local typed=\" \" w\n"
      << "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do typed+=\"$w \"; "
         "done\n"
      << "  local path=\"\" opts=\"\"\n"
      << "  # The longest command whose words were typed: its options.\n"
      << "  case \"$typed\" in\n";
  auto sorted = commands;
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) {
    return std::count(a.path.begin(), a.path.end(), ' ')
           > std::count(b.path.begin(), b.path.end(), ' ');
  });
  for (const auto& c : sorted) {
    std::string opts;
    for (const auto& o : options_of(c))
      opts += (opts.empty() ? "" : " ") + o;
    out << "    \" " << c.path << " \"*) opts=\"" << opts << "\" ;;\n";
  }
  out << "  esac\n"
      << "  if [[ -n $opts ]]; then\n"
      << "    if [[ $cur == -* ]]; then\n"
      << "      COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      << "    else\n"
      << "      COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      << "    fi\n"
      << "    return\n"
      << "  fi\n"
      << "  # Otherwise the next word of a command path.\n"
      << "  local words=\"\"\n"
      << "  for path in";
  for (const auto& c : commands)
    out << " \"" << c.path << "\"";
  out << "; do\n"
      << "    [[ \" $path \" == \"$typed\"* ]] || continue\n"
      << "    local rest=${path#\"${typed# }\"}\n"
      << "    words+=\" ${rest%% *}\"\n"
      << "  done\n"
      << "  COMPREPLY=($(compgen -W \"$words --help --version\" -- \"$cur\"))\n"
      << "}\n"
      << "complete -F _batching batching\n";
  return out.str();
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> pieces;
  std::stringstream in{text};
  for (std::string piece; std::getline(in, piece, ',');)
    pieces.push_back(piece);
  return pieces;
}

std::vector<std::uint32_t> parse_counts(const std::string& text) {
  std::vector<std::uint32_t> counts;
  for (const auto& piece : split_list(text))
    counts.push_back(static_cast<std::uint32_t>(std::stoul(piece)));
  return counts;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
  return static_cast<bool>(out);
}

progress_line::progress_line() : tty_(isatty(2) != 0) {
  // nop
}

void progress_line::show(const std::string& what) {
  if (tty_)
    std::cerr << "\r\033[K" << what << std::flush;
}

void progress_line::show(const std::string& what, double done, double total) {
  if (!tty_ || total <= 0)
    return;
  int width = 30;
  int filled = static_cast<int>(width * std::min(1.0, done / total));
  std::cerr << "\r\033[K[" << std::string(filled, '#')
            << std::string(width - filled, '.') << "] " << what << std::flush;
}

void progress_line::clear() { show(""); }

sigset_t stop_signals_blocked() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void wait_for(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
}

} // namespace batching::cli
