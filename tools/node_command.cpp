// `batching node --role authority`: the cluster's budget authority
// (docs/deployment.md), published on one address only. Workers join it with
// `batching serve --join` or `batching run --join`.

#include <csignal>
#include <iostream>
#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "actors/budget_authority_actor.hpp"
#include "config/loader.hpp"
#include "messages/registration.hpp"
#include "runtime/policy/http_mapping.hpp"
#include "tools/commands.hpp"

namespace batching::cli {

namespace {

struct node_system_config : caf::actor_system_config {
  node_system_config() {
    set("logger.verbosity", caf::atom("quiet"));
    set("middleman.heartbeat-interval", caf::timespan{200'000'000});
    register_types(*this);
    load<caf::io::middleman>();
  }
};

int run_node(const std::vector<std::string>& args) {
  const std::string cmd = "node";
  arguments parsed{args, {}, {"--role", "--listen", "--config", "--env"}};
  if (!parsed.error().empty())
    return usage_error(cmd, parsed.error());
  auto role = parsed.value("--role").value_or("");
  if (role.empty())
    return usage_error(cmd, "--role is required (authority)");
  if (role == "worker" || role == "coordinator")
    return usage_error(cmd, "--role " + role
                              + " is not available yet: workers join with "
                                "`batching serve --join HOST:PORT` or "
                                "`batching run --join HOST:PORT`");
  if (role != "authority")
    return usage_error(cmd,
                       "unknown --role '" + role + "' (expected authority)");
  std::string why;
  auto listen
    = parse_host_port(parsed.value("--listen").value_or("127.0.0.1:0"), &why);
  if (!listen)
    return usage_error(cmd, "--listen: " + why);
  runtime_config cfg;
  if (auto files = parsed.values("--config"); !files.empty()) {
    auto env = config::select_environment(parsed.value("--env").value_or(""));
    auto result = config::load(config::from_paths(files), env);
    if (!result.ok()) {
      for (const auto& e : result.errors)
        std::cerr << e.to_string() << '\n';
      return exit_usage;
    }
    cfg = result.config;
  }
  auto signals = stop_signals_blocked();
  node_system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  auto budgets = authority_config(cfg);
  auto authority = spawn_budget_authority(sys, budgets);
  // The address given only: without it CAF listens on every interface.
  auto port
    = sys.middleman().publish(authority, listen->port, listen->host.c_str());
  if (!port) {
    std::cerr << "batching node: cannot listen on " << listen->host << ':'
              << listen->port << ": " << sys.render(port.error()) << '\n';
    caf::anon_send_exit(authority, caf::exit_reason::user_shutdown);
    return exit_failure;
  }
  std::cout << "batching node: budget authority listening on " << listen->host
            << ':' << *port << " for";
  for (const auto& [name, b] : budgets)
    std::cout << ' ' << name << " (" << b.rate << " requests/s)";
  std::cout << std::endl;
  wait_for(signals);
  std::cout << "batching node: stopping" << std::endl;
  caf::anon_send_exit(authority, caf::exit_reason::user_shutdown);
  return exit_ok;
}

} // namespace

std::vector<command> node_commands() {
  return {
    {"node", "run a cluster node (the budget authority)",
     "Usage: batching node --role authority [--listen HOST:PORT]\n"
     "                     [--config FILE.yaml]... [--env NAME]\n"
     "\n"
     "Runs the budget authority of a cluster (docs/deployment.md): it owns\n"
     "each configured backend's request budget (its\n"
     "initial_requests_per_second) and leases permits to the nodes that\n"
     "join it with `batching serve --join HOST:PORT` or `batching run\n"
     "--join HOST:PORT`; a 429 seen by any node pauses the backend on all.\n"
     "\n"
     "Options:\n"
     "  --role authority    the only role so far\n"
     "  --listen HOST:PORT  the one address to listen on (default\n"
     "                      127.0.0.1:0: loopback, a free port, printed)\n"
     "  --config FILE       configuration with the backends' budgets\n"
     "\n"
     "Plain TCP between nodes: use it on loopback or a trusted network.\n"
     "\n"
     "Example:\n"
     "  batching node --role authority --listen 127.0.0.1:4100 --config "
     "api.yaml\n",
     run_node},
  };
}

} // namespace batching::cli
