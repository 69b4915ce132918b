#pragma once

// The command groups of the `batching` CLI; main.cpp joins them.

#include <optional>
#include <vector>

#include "runtime/policy/settings.hpp"
#include "tools/command_line.hpp"

namespace batching {
class runtime;
} // namespace batching

namespace batching::cli {

/// The performance targets of the shipped configuration (or of
/// $BATCHING_CONFIG_DIR); their defaults when none can be read.
performance_targets_config shipped_targets();

/// Gives the runtime an HTTP executor per backend with an http.url (and
/// alert webhooks) and starts it: exit_ok, or the exit status after saying
/// why not on stderr (serve_command.cpp).
int start_with_http_executors(runtime& rt, const runtime_config& cfg,
                              const std::string& cmd);

/// `batching config check|show|keys`.
std::vector<command> config_commands();

/// `batching bench overhead|sweep|zoo`.
std::vector<command> bench_commands();

/// `batching bench zoo` (zoo_command.cpp).
command zoo_bench_command();

/// `batching demo`.
std::vector<command> demo_commands();

/// `batching loadtest`.
std::vector<command> loadtest_commands();

/// `batching serve` and `batching run`.
std::vector<command> serve_commands();

/// `batching node`.
std::vector<command> node_commands();

// Shared by serve, run and node (serve_command.cpp).

/// The configuration from --config files with --env; without files, the
/// shipped ones (from --config-dir) or, with `defaults_when_none`, the
/// built-in defaults. Prints the problems and returns nothing if invalid.
std::optional<runtime_config> load_config(const arguments& parsed,
                                          bool defaults_when_none);

/// --join, --node, --tls-cert, --tls-key, --tls-ca and --plain-tcp.
void apply_cluster_flags(const arguments& parsed, cluster_config& c);

/// A coordinator node: the runtime (with the budget authority, accepting
/// workers on cluster.listen) behind the HTTP API on --http.
int run_coordinator_node(const arguments& parsed, runtime_config cfg);

/// A worker node: batchers and HTTP executors for the coordinator at
/// cluster.join, until it is lost or a signal arrives.
int run_worker_node(const arguments& parsed, runtime_config cfg);

/// `batching sim`.
std::vector<command> sim_commands();

} // namespace batching::cli
