// `batching config ...`: validate configuration files, print the effective
// configuration, print the key reference.

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "config/emit.hpp"
#include "config/live.hpp"
#include "config/loader.hpp"
#include "runtime/http/http_executor.hpp"
#include "tools/commands.hpp"
#include "tools/json_text.hpp"

namespace batching::cli {

namespace {

void print(const std::vector<config::diagnostic>& errors) {
  for (const auto& err : errors)
    std::cerr << err.to_string() << '\n';
  std::cerr << errors.size() << (errors.size() == 1 ? " error" : " errors")
            << '\n';
}

int run_check(const std::vector<std::string>& args) {
  arguments parsed{args, {}, {}};
  if (!parsed.error().empty())
    return usage_error("config check", parsed.error());
  if (parsed.positional().empty())
    return usage_error("config check", "expects at least one FILE");
  auto errors = config::check(config::from_paths(parsed.positional()));
  if (!errors.empty()) {
    print(errors);
    return exit_usage;
  }
  // Warnings, not errors: the base configuration as the runtime reads it.
  auto base = config::load(config::from_paths(parsed.positional()));
  for (const auto& note : config::notes(base.config))
    std::cerr << "warning: " << note << '\n';
  for (const auto& file : parsed.positional())
    std::cout << file << ": ok\n";
  return exit_ok;
}

/// `config show --url`: what a running `serve` uses (GET /v1/config,
/// secrets redacted), live changes included.
int show_running(const std::string& url, const arguments& parsed) {
  http_backend_config http;
  http.url = url;
  std::string token = parsed.value("--token").value_or("");
  if (token.empty())
    if (const char* env = std::getenv("BATCHING_SERVER_TOKEN"))
      token = env;
  if (!token.empty())
    http.headers["Authorization"] = "Bearer " + token;
  std::unique_ptr<http_executor> client;
  try {
    client = std::make_unique<http_executor>(http);
  } catch (const std::exception& e) {
    return usage_error("config show", std::string{"--url: "} + e.what());
  }
  auto a = client->request("GET", "/v1/config", "", std::chrono::seconds{10});
  if (a.status != 200) {
    std::cerr << "batching config show: " << url << "/v1/config: "
              << (a.status ? "HTTP " + std::to_string(a.status) + " " + a.body
                           : a.error)
              << '\n';
    return exit_failure;
  }
  auto where = url + "/v1/config";
  auto result = config::load({{where, a.body, false}});
  if (!result.ok()) {
    print(result.errors);
    return exit_failure;
  }
  if (parsed.has("--json")) {
    std::cout << to_json_text(config::public_json(result.config));
    return exit_ok;
  }
  std::cout << "# configuration in effect at " << where
            << " (live changes included, secrets redacted)\n"
            << config::to_yaml(result.config);
  for (const auto& note : config::notes(result.config))
    std::cout << "# effective: " << note << '\n';
  return exit_ok;
}

int run_show(const std::vector<std::string>& args) {
  arguments parsed{args,
                   {"--json"},
                   {"--env", "--config", "--config-dir", "--url", "--token"}};
  if (auto rejected = reject_bad_arguments("config show", parsed))
    return *rejected;
  if (auto url = parsed.value("--url")) {
    if (parsed.value("--env") || parsed.value("--config-dir")
        || !parsed.values("--config").empty())
      return usage_error("config show", "--url reads a running serve's "
                                        "configuration: no --env, --config "
                                        "or --config-dir with it");
    return show_running(*url, parsed);
  }
  if (parsed.value("--token"))
    return usage_error("config show", "--token goes with --url");
  auto files = parsed.values("--config");
  if (files.empty()) {
    auto dir
      = parsed.value("--config-dir").value_or(config::default_directory());
    files = config::default_files(dir);
    if (files.empty()) {
      std::cerr << "batching config show: no configuration files in '" << dir
                << "'\n";
      return exit_failure;
    }
  }
  auto env = config::select_environment(parsed.value("--env").value_or(""));
  auto result = config::load(config::from_paths(files), env);
  if (!result.ok()) {
    print(result.errors);
    return exit_usage;
  }
  if (parsed.has("--json")) {
    std::cout << to_json_text(config::to_json(result.config));
    return exit_ok;
  }
  std::cout << "# effective configuration"
            << (env.empty() ? "" : " (environment " + env + ")") << " from:";
  for (const auto& file : files)
    std::cout << ' ' << file;
  std::cout << '\n' << config::to_yaml(result.config);
  // What the runtime actually uses where the file asks for more.
  for (const auto& note : config::notes(result.config))
    std::cout << "# effective: " << note << '\n';
  for (const auto& [type, op] : result.config.operation_configs)
    if (op.strategy == strategy_kind::adaptive) {
      std::cout << "# strategy adaptive (the default for read and write): "
                   "the best of ours measured on random limiters\n"
                   "# (`batching bench zoo`, docs/benchmarks.md); the "
                   "seed's conservative, aggressive, balanced and static\n"
                   "# stay selectable.\n";
      break;
    }
  return exit_ok;
}

int run_keys(const std::vector<std::string>& args) {
  if (!args.empty())
    return usage_error("config keys", "takes no arguments");
  std::cout << config::key_reference();
  return exit_ok;
}

} // namespace

std::vector<command> config_commands() {
  return {
    {"config check", "validate configuration files",
     "Usage: batching config check FILE...\n\n"
     "Validates the files as one configuration (applied in order), with and\n"
     "without each environment they define. Every problem is reported as\n"
     "FILE:LINE:COLUMN: error: MESSAGE on stderr.\n\n"
     "Exit status: 0 when valid, 2 when any problem was found.\n",
     run_check},
    {"config show", "print the effective configuration",
     "Usage: batching config show [--env NAME] [--json] [--config FILE]...\n"
     "                            [--config-dir DIR]\n"
     "       batching config show --url URL [--token TOKEN] [--json]\n\n"
     "Prints the configuration the runtime would use: the files merged in\n"
     "order, with the environment's overrides. With --url, the one a\n"
     "running `batching serve` uses (GET URL/v1/config): live changes\n"
     "(PATCH /v1/config) included, secrets redacted.\n\n"
     "Options:\n"
     "  --env NAME        environment to apply (default: $BATCHING_ENV)\n"
     "  --json            print JSON instead of YAML\n"
     "  --config FILE     a file to load (repeatable; replaces the defaults)\n"
     "  --config-dir DIR  load batching_config.yaml, resource_thresholds.yaml\n"
     "                    and performance_targets.yaml from DIR (default:\n"
     "                    $BATCHING_CONFIG_DIR, else ./config, else the\n"
     "                    source tree's config/)\n"
     "  --url URL         a running serve's base URL (http://HOST:PORT)\n"
     "  --token TOKEN     its bearer token (default:\n"
     "                    $BATCHING_SERVER_TOKEN)\n\n"
     "Exit status: 0; 1 when the server cannot be read; 2 when the\n"
     "configuration is invalid.\n",
     run_show},
    {"config keys", "print the reference of every configuration key",
     "Usage: batching config keys\n\n"
     "Prints a Markdown table of every key: type, default, range, unit and\n"
     "meaning (the table in docs/configuration.md).\n",
     run_keys},
  };
}

} // namespace batching::cli
