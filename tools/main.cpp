// The `batching` command line: every command group registers its commands
// here; `batching --help` lists them.

#include "tools/commands.hpp"

int main(int argc, char** argv) {
  using namespace batching::cli;
  std::vector<command> commands;
  for (auto group : {config_commands(), bench_commands(), sim_commands(),
                     loadtest_commands(), demo_commands(), serve_commands(),
                     node_commands()})
    for (auto& cmd : group)
      commands.push_back(std::move(cmd));
  return dispatch(commands, argc, argv);
}
