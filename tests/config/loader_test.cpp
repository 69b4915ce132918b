// The loader answers every kind of bad input with positioned diagnostics
// (file:line:column and what was expected), all at once, and merges files
// and environments deeply.

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "config/loader.hpp"

#include "tests/config/read_file.hpp"

using namespace batching;
using namespace batching::config;
using batching::testing_support::read_file;

namespace {

std::string fixture(const std::string& name) {
  return std::string{BATCHING_TEST_DATA_DIR} + "/config/fixtures/" + name;
}

std::string shipped(const std::string& name) {
  return std::string{BATCHING_SOURCE_DIR} + "/config/" + name;
}

std::vector<diagnostic> errors_of(const std::string& name,
                                  const std::string& env = {}) {
  return load(from_paths({fixture(name)}), env).errors;
}

diagnostic at(const std::string& name, int line, int column,
              std::string message) {
  return {fixture(name), line, column, std::move(message)};
}

} // namespace

// -- bad input, one fixture per kind ------------------------------------------

TEST(config_loader, malformed_yaml_names_the_position) {
  EXPECT_EQ(errors_of("malformed.yaml"),
            std::vector{at("malformed.yaml", 3, 14,
                           "malformed YAML: illegal map value")});
}

TEST(config_loader, a_stray_comma_is_an_error_not_a_loop) {
  // yaml-cpp 0.7 parses a top-level ',' as empty documents for ever,
  // allocating until the process dies (found by loader_fuzz_test.cpp).
  for (const char* text : {",", ", x", ",# a comment\n"}) {
    auto errors = load({{"stray.yaml", text, false}}).errors;
    EXPECT_EQ(errors, (std::vector<diagnostic>{
                        {"stray.yaml", 1, 1,
                         "malformed YAML: the parser stopped advancing here "
                         "(a stray ',' or flow indicator?)"}}))
      << text;
  }
}

TEST(config_loader, wrong_types_are_reported_at_the_value) {
  auto f = "wrong_type.yaml";
  EXPECT_EQ(errors_of(f),
            (std::vector{
              at(f, 2, 19,
                 "batching.min_batch_size: expected a whole number, got "
                 "'ten'"),
              at(f, 3, 19,
                 "batching.max_error_rate: expected a number, got a "
                 "sequence"),
              at(f, 5, 24,
                 "coordinator.max_concurrent_jobs: expected a whole number, "
                 "got '2.5'"),
            }));
}

TEST(config_loader, out_of_range_values_name_the_range) {
  auto f = "out_of_range.yaml";
  EXPECT_EQ(
    errors_of(f),
    (std::vector{
      at(f, 2, 19, "batching.max_error_rate: 1.5 is out of range [0, 1]"),
      at(f, 3, 27, "batching.adaptation_sensitivity: 0 is out of range (0, 1]"),
      at(f, 6, 15,
         "resource_thresholds.cpu.critical: 120 is out of range [0, "
         "100]"),
    }));
}

TEST(config_loader, min_greater_than_max_is_reported) {
  auto f = "min_greater_than_max.yaml";
  EXPECT_EQ(
    errors_of(f),
    (std::vector{
      at(f, 2, 19,
         "batching.min_batch_size (600) must be at most "
         "batching.max_batch_size (500)"),
      at(f, 2, 19,
         "batching.min_batch_size (600) must be at most "
         "operation_configs.read.preferred_batch_size (550)"),
      at(f, 2, 19,
         "batching.min_batch_size (600) must be at most "
         "operation_configs.write.preferred_batch_size (50)"),
      at(f, 6, 27,
         "operation_configs.read.preferred_batch_size (550) must be at most "
         "operation_configs.read.max_batch_size (500)"),
      at(f, 6, 27,
         "operation_configs.read.preferred_batch_size (550) must be at most "
         "batching.max_batch_size (500)"),
    }));
}

TEST(config_loader, unknown_keys_suggest_the_closest_valid_key) {
  auto f = "unknown_key.yaml";
  EXPECT_EQ(errors_of(f),
            (std::vector{
              at(f, 2, 3,
                 "unknown key 'max_bacth_size' in batching; did you mean "
                 "'max_batch_size'?"),
              at(f, 4, 5,
                 "unknown key 'failure_treshold' in batching.circuit_breaker; "
                 "did you mean 'failure_threshold'?"),
              at(f, 5, 1,
                 "unknown key 'coordinatr' at top level; did you mean "
                 "'coordinator'?"),
            }));
}

TEST(config_loader, unknown_strategies_list_the_valid_ones) {
  auto f = "unknown_strategy.yaml";
  EXPECT_EQ(
    errors_of(f),
    (std::vector{
      at(
        f, 3, 15,
        "operation_configs.read.strategy: unknown strategy "
        "'agressive' (expected one of: conservative, aggressive, "
        "adaptive, balanced, static, ml, clipper); did you mean 'aggressive'?"),
      at(f, 7, 15,
         "operation_configs.maritime_policy_validation.strategy: "
         "unknown strategy 'turbo' (expected one of: conservative, "
         "aggressive, adaptive, balanced, static, ml, clipper)"),
    }));
}

TEST(config_loader, unknown_environment_is_an_error) {
  auto f = "environments.yaml";
  EXPECT_EQ(errors_of(f, "prod"),
            std::vector{at(f, 3, 1,
                           "unknown environment 'prod'; did you mean "
                           "'production'?")});
  EXPECT_EQ(errors_of(f, "qa"),
            std::vector{at(f, 3, 1,
                           "unknown environment 'qa' (defined: production, "
                           "staging)")});
}

TEST(config_loader, missing_file_is_an_error_without_position) {
  auto result = load(from_paths({"/nonexistent/batching.yaml"}));
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            "/nonexistent/batching.yaml: error: cannot read file: No such "
            "file or directory");
}

TEST(config_loader, duplicate_keys_are_reported) {
  auto f = "duplicate_key.yaml";
  EXPECT_EQ(errors_of(f),
            std::vector{at(f, 3, 3,
                           "duplicate key 'max_concurrent_jobs' in "
                           "coordinator (first at line 2)")});
}

TEST(config_loader, every_problem_of_a_file_is_reported_at_once) {
  auto f = "many_errors.yaml";
  EXPECT_EQ(
    errors_of(f),
    (std::vector{
      at(f, 2, 19, "batching.min_batch_size: 0 is out of range [1, 100000]"),
      at(f, 3, 19,
         "batching.max_batch_size: expected a whole number, got 'lots'"),
      at(f, 6, 15,
         "operation_configs.write.strategy: unknown strategy 'fastest' "
         "(expected one of: conservative, aggressive, adaptive, balanced, "
         "static, ml, clipper)"),
      at(f, 8, 21,
         "sampling.interval_seconds: -1 is out of range [0.01, 3600]"),
      at(f, 9, 1,
         "unknown key 'bogus' at top level (valid keys: batching, "
         "operation_configs, backends, coordinator, resource_thresholds, "
         "scaling, sampling, optimizer, server, cluster, journal, "
         "performance_targets, monitoring, environments)"),
    }));
}

TEST(config_loader, diagnostics_print_gnu_style) {
  diagnostic d{"a.yaml", 3, 14, "boom"};
  EXPECT_EQ(d.to_string(), "a.yaml:3:14: error: boom");
}

// -- environments and merging -------------------------------------------------

TEST(config_loader, environment_overrides_merge_over_the_base) {
  auto files = from_paths({fixture("environments.yaml")});
  auto base = load(files);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(base.config.batching.max_batch_size, 400u);
  EXPECT_EQ(base.environments,
            (std::vector<std::string>{"production", "staging"}));
  auto staging = load(files, "staging");
  ASSERT_TRUE(staging.ok());
  EXPECT_EQ(staging.config.batching.max_batch_size, 300u);
  EXPECT_EQ(staging.config.batching.min_batch_size, 10u); // untouched
  auto production = load(files, "production");
  ASSERT_TRUE(production.ok());
  EXPECT_EQ(production.config.batching.max_batch_size, 1000u);
  EXPECT_EQ(production.config.batching.min_batch_size, 5u);
  EXPECT_EQ(production.config.batching.linger_ms, 50.0); // default kept
}

TEST(config_loader, environment_errors_name_the_environment) {
  auto f = "bad_environment.yaml";
  EXPECT_TRUE(errors_of(f).empty()); // the base alone is fine
  auto suffix = std::string{" (environment 'production')"};
  auto expected = std::vector{
    at(f, 6, 23,
       "batching.min_batch_size (10) must be at most batching.max_batch_size "
       "(5)"
         + suffix),
    at(f, 6, 23,
       "operation_configs.read.preferred_batch_size (100) must be at most "
       "batching.max_batch_size (5)"
         + suffix),
    at(f, 6, 23,
       "operation_configs.write.preferred_batch_size (50) must be at most "
       "batching.max_batch_size (5)"
         + suffix),
    at(f, 7, 7,
       "unknown key 'linger' in batching; did you mean 'linger_ms'?" + suffix),
  };
  EXPECT_EQ(errors_of(f, "production"), expected);
  // check() validates the base and every environment in one go.
  EXPECT_EQ(check(from_paths({fixture(f)})), expected);
}

TEST(config_loader, files_merge_in_order_and_custom_types_add_batchers) {
  auto result = load(
    from_paths({fixture("environments.yaml"), fixture("custom_type.yaml")}));
  ASSERT_TRUE(result.ok());
  const auto& ops = result.config.operation_configs;
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops.at("read"), default_operation_configs().at("read"));
  EXPECT_EQ(ops.at("write"), default_operation_configs().at("write"));
  auto& custom = ops.at("maritime_policy_validation");
  EXPECT_EQ(custom.preferred_batch_size, 25u);
  EXPECT_EQ(custom.max_batch_size, 100u);
  EXPECT_EQ(custom.strategy, strategy_kind::conservative);
  EXPECT_EQ(custom.timeout_multiplier, 2.0);
  EXPECT_EQ(result.config.batching.max_batch_size, 400u);
}

TEST(config_loader, a_later_file_overrides_single_keys_of_an_earlier_one) {
  std::vector<source> files{
    {"first.yaml", "operation_configs:\n  read:\n    strategy: balanced\n",
     false},
    {"second.yaml", "operation_configs:\n  read:\n    max_batch_size: 200\n",
     false},
  };
  auto result = load(files);
  ASSERT_TRUE(result.ok());
  auto read = result.config.operation_configs.at("read");
  EXPECT_EQ(read.strategy, strategy_kind::balanced);
  EXPECT_EQ(read.max_batch_size, 200u);
  EXPECT_EQ(read.preferred_batch_size, 100u);
}

TEST(config_loader, empty_documents_give_the_defaults) {
  auto result
    = load({{"empty.yaml", "", false}, {"comment.yaml", "# x\n", false}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config, runtime_config{});
}

TEST(config_loader, a_non_mapping_document_is_rejected) {
  auto result = load({{"list.yaml", "- 1\n- 2\n", false}});
  EXPECT_EQ(
    result.errors,
    (std::vector<diagnostic>{
      {"list.yaml", 1, 1, "expected a mapping at top level, got a sequence"}}));
  auto two
    = load({{"two.yaml", "batching: {}\n---\ncoordinator: {}\n", false}});
  EXPECT_EQ(two.errors,
            (std::vector<diagnostic>{
              {"two.yaml", 3, 1,
               "only one YAML document per file (a second starts here)"}}));
}

TEST(config_loader, invalid_operation_type_names_are_rejected) {
  auto result = load(
    {{"ops.yaml", "operation_configs:\n  Bulk Write:\n    strategy: adaptive\n",
      false}});
  EXPECT_EQ(result.errors,
            (std::vector<diagnostic>{
              {"ops.yaml", 2, 3,
               "operation_configs: invalid name 'Bulk Write' (use lowercase "
               "letters, digits and '_', starting with a letter)"}}));
}

// -- the shipped files --------------------------------------------------------

TEST(config_loader, shipped_files_equal_the_struct_defaults) {
  auto files = default_files(std::string{BATCHING_SOURCE_DIR} + "/config");
  ASSERT_EQ(files.size(), 3u);
  auto result = load(from_paths(files));
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  EXPECT_EQ(result.config, runtime_config{});
  EXPECT_EQ(result.environments,
            (std::vector<std::string>{"development", "production", "staging"}));
  EXPECT_TRUE(check(from_paths(files)).empty());
}

TEST(config_loader, shipped_production_environment_applies) {
  auto result
    = load(from_paths({shipped("batching_config.yaml")}), "production");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config.batching.min_batch_size, 20u);
  EXPECT_EQ(result.config.batching.max_batch_size, 1000u);
  EXPECT_EQ(result.config.operation_configs.at("read").max_batch_size, 1000u);
}

TEST(config_loader, closest_match_finds_typos_and_abbreviations) {
  std::vector<std::string> names{"min_batch_size", "max_batch_size",
                                 "linger_ms"};
  EXPECT_EQ(closest_match("max_bacth_size", names), "max_batch_size");
  EXPECT_EQ(closest_match("linger", names), "linger_ms");
  EXPECT_EQ(closest_match("completely_else", names), "");
}

// -- robustness ---------------------------------------------------------------

RC_GTEST_PROP(config_loader_property, mutated_yaml_never_crashes_the_loader,
              ()) {
  static const std::string original
    = read_file(shipped("batching_config.yaml"));
  auto text = original;
  auto mutations = *rc::gen::inRange(1, 8);
  for (int i = 0; i < mutations; ++i) {
    auto pos = *rc::gen::inRange<std::size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 4)) {
      case 0: // delete a span
        text.erase(pos, *rc::gen::inRange<std::size_t>(1, 20));
        break;
      case 1: // insert YAML-significant characters
        text.insert(
          pos, 1,
          *rc::gen::elementOf(std::string{":-[]{}#&*!|>'\"%@`\t\n ,?a9"}));
        break;
      case 2: // duplicate a span
        text.insert(pos,
                    text.substr(pos, *rc::gen::inRange<std::size_t>(1, 40)));
        break;
      default: // replace a character with arbitrary bytes
        if (pos < text.size())
          text[pos] = static_cast<char>(*rc::gen::inRange(1, 256));
    }
  }
  load_result result;
  try {
    result = load({{"mutated.yaml", text, false}}, "production");
  } catch (const std::exception& e) {
    RC_FAIL(std::string{"loader threw: "} + e.what());
  }
  for (const auto& err : result.errors) {
    RC_ASSERT(err.file == "mutated.yaml");
    RC_ASSERT(err.line > 0);
    RC_ASSERT(err.column > 0);
    RC_ASSERT(!err.message.empty());
  }
}

TEST(config_loader, backends_must_exist_and_retries_be_ordered) {
  auto result = load({{"be.yaml",
                       "operation_configs:\n"
                       "  write:\n"
                       "    backend: notoin\n"
                       "backends:\n"
                       "  default:\n"
                       "    retry_base_ms: 5000\n"
                       "    retry_max_ms: 1000\n",
                       false}});
  EXPECT_EQ(result.errors,
            (std::vector<diagnostic>{
              {"be.yaml", 3, 14,
               "operation_configs.write.backend: unknown backend 'notoin' "
               "(not a key of backends)"},
              {"be.yaml", 6, 20,
               "backends.default.retry_base_ms (5000) must be at most "
               "backends.default.retry_max_ms (1000)"}}));
}

TEST(config_loader, cluster_settings_are_checked_where_they_are_written) {
  auto f = "cluster_errors.yaml";
  EXPECT_EQ(
    errors_of(f),
    (std::vector{
      at(f, 2, 9,
         "cluster.role worker needs cluster.join (the host:port of the "
         "authority or coordinator)"),
      at(f, 3, 11,
         "cluster.listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got "
         "'nowhere'"),
      at(f, 4, 14,
         "cluster.transport: unknown transport 'udp' (expected one of: tls, "
         "plain_tcp)"),
    }));
}

TEST(config_loader, notes_name_batch_sizes_a_backend_cannot_carry) {
  runtime_config cfg;
  cfg.operation_configs = {{"write", {}}};
  cfg.operation_configs["write"].max_batch_size = 500;
  cfg.operation_configs["write"].preferred_batch_size = 80;
  cfg.backends[default_backend].max_items_per_request = 100;
  EXPECT_EQ(notes(cfg),
            std::vector<std::string>{
              "operation_configs.write.max_batch_size: 500 exceeds "
              "backends.default.max_items_per_request (100): a batch is one "
              "request, so write batches carry at most 100"});
  cfg.operation_configs["write"].max_batch_size = 100;
  EXPECT_TRUE(notes(cfg).empty());
  cfg.backends[default_backend].max_items_per_request = 50; // both exceed
  EXPECT_EQ(notes(cfg).size(), 2u);
}

// The seed README's production environment, verbatim: it loads, and its
// e-mail key is accepted with a warning that names what to use instead.
TEST(config_loader, the_seeds_production_yaml_passes_with_warnings) {
  const std::string seed = R"(environments:
  production:
    batching:
      min_batch_size: 20
      max_batch_size: 1000
    coordinator:
      max_concurrent_jobs: 10
    monitoring:
      alerting:
        enabled: true
        email_notifications: true
)";
  auto result = load({{"seed.yaml", seed, false}}, "production");
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  const auto& a = result.config.monitoring.alerting;
  EXPECT_TRUE(a.enabled);
  EXPECT_TRUE(a.email_notifications);
  auto n = notes(result.config);
  auto has = [&](const std::string& text) {
    return std::any_of(n.begin(), n.end(), [&](const std::string& s) {
      return s.find(text) != std::string::npos;
    });
  };
  EXPECT_TRUE(has("monitoring.alerting.email_notifications: no e-mail is "
                  "sent; add a webhook"));
  EXPECT_TRUE(has("monitoring.alerting.enabled: no webhooks configured"));
}

TEST(config_loader, alerting_keys_are_checked_where_they_are_written) {
  const std::string text = R"(monitoring:
  alerting:
    enabled: maybe
    webhooks:
      ops: ftp://example.com/x
    min_interval_seconds: -1
)";
  auto result = load({{"a.yaml", text, false}});
  ASSERT_FALSE(result.ok());
  std::vector<std::string> errors;
  for (const auto& e : result.errors)
    errors.push_back(e.to_string());
  auto has = [&](const std::string& t) {
    return std::any_of(errors.begin(), errors.end(), [&](const std::string& s) {
      return s.find(t) != std::string::npos;
    });
  };
  EXPECT_TRUE(has("a.yaml:3:14: error: monitoring.alerting.enabled: expected "
                  "true or false"));
  EXPECT_TRUE(
    has("a.yaml:6:27: error: monitoring.alerting.min_interval_seconds: "
        "-1 is out of range"));
  EXPECT_TRUE(has("a.yaml:5:12: error: monitoring.alerting.webhooks.ops:"));
}
