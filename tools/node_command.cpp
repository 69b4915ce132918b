// `batching node --role authority|coordinator|worker`: one node of a
// cluster (docs/deployment.md). The authority owns the backends' budgets;
// a coordinator is an authority that also takes jobs (HTTP API) and spreads
// them over the workers that join it; members (`serve`/`run --join`) only
// share the budget.

#include <csignal>
#include <iostream>
#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/budget_authority_actor.hpp"
#include "messages/registration.hpp"
#include "runtime/policy/http_mapping.hpp"
#include "runtime/system/cluster_link.hpp"
#include "tools/commands.hpp"

namespace batching::cli {

namespace {

struct node_system_config : caf::actor_system_config {
  explicit node_system_config(const cluster_config& cluster) {
    set("logger.verbosity", caf::atom("quiet"));
    register_types(*this);
    prepare_cluster_config(*this, cluster);
  }
};

int run_authority(runtime_config cfg) {
  auto signals = stop_signals_blocked();
  node_system_config sys_cfg{cfg.cluster};
  caf::actor_system sys{sys_cfg};
  auto budgets = authority_config(cfg);
  auto authority = spawn_budget_authority(sys, budgets);
  auto entry
    = spawn_cluster_entry(sys, {authority, {}}, [](const std::string& node) {
        std::cout << "batching node: " << node << " joined" << std::endl;
      });
  auto stop = [&] {
    caf::anon_send_exit(entry, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(authority, caf::exit_reason::user_shutdown);
  };
  std::uint16_t port = 0;
  try {
    port = publish_entry(sys, entry, cfg.cluster.listen, cfg.cluster);
  } catch (const std::exception& e) {
    std::cerr << "batching node: " << e.what() << '\n';
    stop();
    return exit_failure;
  }
  std::cout << "batching node: budget authority listening on "
            << parse_host_port(cfg.cluster.listen, nullptr)->host << ':' << port
            << " (" << to_string(cfg.cluster.transport) << ") for";
  for (const auto& [name, b] : budgets)
    std::cout << ' ' << name << " (" << b.rate << " requests/s)";
  std::cout << std::endl;
  wait_for(signals);
  std::cout << "batching node: stopping" << std::endl;
  stop();
  return exit_ok;
}

int run_node(const std::vector<std::string>& args) {
  const std::string cmd = "node";
  arguments parsed{args,
                   {"--no-resources", "--plain-tcp", "--no-journal"},
                   {"--role", "--listen", "--join", "--node", "--config",
                    "--env", "--http", "--drain-seconds", "--tls-cert",
                    "--tls-key", "--tls-ca", "--journal", "--journal-sync"}};
  if (auto rejected = reject_bad_arguments(cmd, parsed))
    return *rejected;
  auto loaded = load_config(parsed, true);
  if (!loaded)
    return exit_usage;
  auto cfg = std::move(*loaded);
  auto& c = cfg.cluster;
  if (auto role = parsed.value("--role")) {
    auto r = parse_enum<cluster_role>(*role);
    if (!r || *r == cluster_role::none || *r == cluster_role::member)
      return usage_error(cmd, "unknown --role '" + *role
                                + "' (expected authority, coordinator or "
                                  "worker)");
    c.role = *r;
  }
  if (c.role == cluster_role::none || c.role == cluster_role::member)
    return usage_error(cmd, "--role is required (authority, coordinator or "
                            "worker), or cluster.role in --config");
  if (auto listen = parsed.value("--listen"))
    c.listen = *listen;
  apply_cluster_flags(parsed, c);
  std::string why;
  if (!parse_host_port(c.listen, &why))
    return usage_error(cmd, "--listen: " + why);
  if (auto problem = check_cluster(c); !problem.empty())
    return usage_error(cmd, problem);
  switch (c.role) {
    case cluster_role::authority: return run_authority(std::move(cfg));
    case cluster_role::coordinator:
      return run_coordinator_node(parsed, std::move(cfg));
    default: return run_worker_node(parsed, std::move(cfg));
  }
}

} // namespace

std::vector<command> node_commands() {
  return {
    {"node", "run a cluster node (authority, coordinator or worker)",
     "Usage: batching node --role authority|coordinator|worker\n"
     "                     [--listen HOST:PORT] [--join HOST:PORT]\n"
     "                     [--node NAME] [--http HOST:PORT]\n"
     "                     [--tls-cert F --tls-key F --tls-ca F | "
     "--plain-tcp]\n"
     "                     [--config FILE.yaml]... [--env NAME]\n"
     "                     [--journal PATH | --no-journal]\n"
     "                     [--journal-sync full|normal]\n"
     "\n"
     "One node of a cluster sharing each backend's request budget\n"
     "(docs/deployment.md):\n"
     "  authority    owns the budgets (each backend's\n"
     "               initial_requests_per_second) and leases permits to the\n"
     "               nodes; a 429 seen by any node pauses the backend on all.\n"
     "               Members join it with `batching serve|run --join`.\n"
     "  coordinator  an authority that also takes jobs (the HTTP API of\n"
     "               `batching serve` on --http) and spreads them over its\n"
     "               own batchers and the workers that join it; a lost\n"
     "               worker's operations move to the others.\n"
     "  worker       batchers and HTTP executors for the coordinator it\n"
     "               joins (--join); stops when that coordinator is lost.\n"
     "\n"
     "Options (each also under cluster: in --config):\n"
     "  --role ROLE         authority, coordinator or worker\n"
     "  --listen HOST:PORT  the one address an authority or coordinator\n"
     "                      listens on (default 127.0.0.1:0: loopback, a\n"
     "                      free port, printed)\n"
     "  --join HOST:PORT    the coordinator a worker joins\n"
     "  --node NAME         this node's name (default host:pid)\n"
     "  --http HOST:PORT    a coordinator's HTTP API (default\n"
     "                      server.listen)\n"
     "  --tls-cert FILE     this node's certificate (PEM)\n"
     "  --tls-key FILE      its private key (BATCHING_TLS_PASSPHRASE if\n"
     "                      encrypted)\n"
     "  --tls-ca FILE       the CA every node's certificate must be signed\n"
     "                      by; others are refused\n"
     "  --plain-tcp         no TLS: loopback addresses only, for testing\n"
     "  --drain-seconds S   a coordinator's drain on SIGINT/SIGTERM\n"
     "  --no-resources      do not sample /proc\n"
     "  --config FILE       the backends, their budgets and http settings\n"
     "  --journal PATH      a coordinator's job journal (default\n"
     "                      journal.path, else ./batching.journal)\n"
     "  --no-journal        a coordinator keeps none\n"
     "  --journal-sync M    full (default) or normal (docs/durability.md)\n"
     "\n"
     "Example:\n"
     "  batching node --role coordinator --listen 127.0.0.1:4100 --http\n"
     "    127.0.0.1:8080 --config api.yaml --tls-cert node.pem --tls-key\n"
     "    node.key --tls-ca ca.pem\n"
     "  batching node --role worker --join 127.0.0.1:4100 --config api.yaml\n"
     "    --tls-cert worker.pem --tls-key worker.key --tls-ca ca.pem\n",
     run_node},
  };
}

} // namespace batching::cli
