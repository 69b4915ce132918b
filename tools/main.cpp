// The `batching` command line: every command group registers its commands
// here; `batching --help` lists them.

#include <iostream>
#include <string>

#include "runtime/policy/version.hpp"
#include "tools/commands.hpp"

int main(int argc, char** argv) {
  using namespace batching::cli;
  if (argc == 2
      && (std::string{argv[1]} == "--version"
          || std::string{argv[1]} == "version")) {
    std::cout << "batching " << batching::version() << '\n';
    return exit_ok;
  }
  std::vector<command> commands;
  for (auto group : {config_commands(), bench_commands(), sim_commands(),
                     loadtest_commands(), demo_commands(), serve_commands(),
                     node_commands()})
    for (auto& cmd : group)
      commands.push_back(std::move(cmd));
  // Completion is generated from the commands above and their --help.
  commands.push_back(
    {"completion", "print the bash completion script",
     "Usage: batching completion\n\n"
     "Prints a bash completion script for every command and the options\n"
     "its --help names (generated from them, so it never drifts):\n"
     "  batching completion > /etc/bash_completion.d/batching\n"
     "  source <(batching completion)\n",
     [&commands](const std::vector<std::string>& args) -> int {
       if (!args.empty())
         return usage_error("completion", "takes no arguments");
       std::cout << bash_completion(commands);
       return exit_ok;
     }});
  return dispatch(commands, argc, argv);
}
