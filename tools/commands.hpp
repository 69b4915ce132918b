#pragma once

// The command groups of the `batching` CLI; main.cpp joins them.

#include <vector>

#include "tools/command_line.hpp"

namespace batching::cli {

/// `batching config check|show|keys`.
std::vector<command> config_commands();

/// `batching bench overhead`.
std::vector<command> bench_commands();

/// `batching demo`.
std::vector<command> demo_commands();

/// `batching loadtest`.
std::vector<command> loadtest_commands();

/// `batching serve` and `batching run`.
std::vector<command> serve_commands();

/// `batching node`.
std::vector<command> node_commands();

/// `batching sim`.
std::vector<command> sim_commands();

} // namespace batching::cli
