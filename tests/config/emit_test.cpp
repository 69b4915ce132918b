// Emitting is the inverse of loading, and the key reference in
// docs/configuration.md is the one the schema produces.

#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "config/emit.hpp"
#include "config/loader.hpp"

#include "tests/config/read_file.hpp"

using namespace batching;
using namespace batching::config;
using batching::testing_support::read_file;

namespace {

/// A random configuration that satisfies every range and cross-field rule.
rc::Gen<runtime_config> valid_config() {
  return rc::gen::exec([] {
    using rc::gen::inRange;
    auto real = [](double lo, double hi) {
      // Arbitrary doubles in [lo, hi], including awkward fractions.
      auto unit = *inRange<std::uint64_t>(0, 1'000'001) / 1e6;
      return lo + (hi - lo) * unit;
    };
    runtime_config cfg;
    auto& b = cfg.batching;
    b.min_batch_size = *inRange<std::uint32_t>(1, 200);
    b.max_batch_size = *inRange<std::uint32_t>(b.min_batch_size, 100'001);
    b.target_response_time_ms = real(0.5, 10'000);
    b.max_error_rate = real(0, 1);
    b.adaptation_sensitivity = real(0.001, 1);
    b.linger_ms = real(0, 60'000);
    b.circuit_breaker.failure_threshold = *inRange<std::uint32_t>(1, 1000);
    b.circuit_breaker.timeout_seconds = real(0.1, 86'400);
    b.circuit_breaker.recovery_attempts = *inRange<std::uint32_t>(1, 1001);
    auto names = *rc::gen::container<std::vector<std::string>>(
      rc::gen::element<std::string>("read", "write", "bulk_import",
                                    "maritime_policy_validation", "sync2"));
    for (const auto& name : names) {
      operation_type_config op;
      op.max_batch_size = *inRange<std::uint32_t>(b.min_batch_size, 100'001);
      op.preferred_batch_size = *inRange<std::uint32_t>(
        b.min_batch_size, std::min(op.max_batch_size, b.max_batch_size) + 1);
      op.strategy = *rc::gen::element(
        strategy_kind::conservative, strategy_kind::aggressive,
        strategy_kind::adaptive, strategy_kind::balanced);
      op.timeout_multiplier = real(0.01, 1000);
      cfg.operation_configs[name] = op;
    }
    // Defaults of read/write must also fit the generated bounds.
    for (auto& [name, op] : cfg.operation_configs) {
      op.max_batch_size = std::max(op.max_batch_size, b.min_batch_size);
      op.preferred_batch_size
        = std::clamp(op.preferred_batch_size, b.min_batch_size,
                     std::min(op.max_batch_size, b.max_batch_size));
    }
    cfg.coordinator.max_concurrent_jobs = *inRange<std::uint32_t>(1, 100'000);
    cfg.coordinator.max_queued_operations
      = *inRange<std::uint64_t>(1, 1'000'000'000'000ull);
    auto& r = cfg.resource_thresholds;
    for (auto* levels : {&r.cpu, &r.memory, &r.network, &r.disk}) {
      levels->warning = real(0, 99);
      levels->critical = real(levels->warning + 0.5, 100);
      levels->sustained_seconds = real(0, 3600);
    }
    r.network_capacity_mbit_s = real(1, 100'000);
    cfg.scaling.scale_down.cpu_threshold = real(0, 50);
    cfg.scaling.scale_up.cpu_threshold = real(51, 100);
    cfg.scaling.scale_up.sustained_duration_seconds = real(0, 1000);
    cfg.scaling.scale_down.sustained_duration_seconds = real(0, 1000);
    cfg.sampling.interval_seconds = real(0.01, 60);
    cfg.sampling.trend_window_seconds = real(1, 3600);
    auto& t = cfg.performance_targets;
    t.throughput_improvement_percent = real(0, 500);
    t.resource_efficiency_percent = real(0, 100);
    t.success_rate_without_throttling_percent = real(0, 100);
    t.average_response_time_ms = real(1, 1000);
    t.p99_response_time_ms = real(t.average_response_time_ms, 5000);
    t.stability_percent = real(0, 100);
    t.adaptation_seconds = real(0.1, 60);
    t.load_multiplier = real(1, 100);
    return cfg;
  });
}

} // namespace

TEST(config_emit, defaults_survive_emit_and_load) {
  runtime_config cfg;
  auto result = load({{"emitted.yaml", to_yaml(cfg), false}});
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  EXPECT_EQ(result.config, cfg);
}

TEST(config_emit, yaml_prints_numbers_exactly_and_readably) {
  runtime_config cfg;
  cfg.batching.max_error_rate = 0.1;
  cfg.coordinator.max_queued_operations = 1'000'000'000'000ull;
  auto yaml = to_yaml(cfg);
  EXPECT_NE(yaml.find("max_error_rate: 0.1\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("max_queued_operations: 1000000000000\n"),
            std::string::npos);
  EXPECT_NE(yaml.find("strategy: adaptive\n"), std::string::npos);
}

TEST(config_emit, json_holds_every_section) {
  auto json = to_json(runtime_config{});
  const auto& obj = json.as_object();
  for (auto key :
       {"batching", "operation_configs", "coordinator", "resource_thresholds",
        "scaling", "sampling", "performance_targets"})
    EXPECT_TRUE(obj.contains(key)) << key;
  EXPECT_EQ(obj.at("batching").at("circuit_breaker").at("failure_threshold"),
            5);
  EXPECT_EQ(obj.at("operation_configs").at("write").at("strategy"), "adaptive");
}

TEST(config_emit, docs_list_every_key) {
  auto docs
    = read_file(std::string{BATCHING_SOURCE_DIR} + "/docs/configuration.md");
  auto table = key_reference();
  EXPECT_NE(docs.find(table), std::string::npos)
    << "docs/configuration.md is out of date; regenerate its table with "
       "`batching config keys`:\n"
    << table;
  // Spot-check the table itself.
  EXPECT_NE(table.find("| `batching.circuit_breaker.failure_threshold` | "
                       "integer | 5 | [1, 1000000] | requests |"),
            std::string::npos);
  EXPECT_NE(table.find("| `operation_configs.<type>.strategy` | name | "
                       "adaptive | conservative, aggressive, adaptive, "
                       "balanced, static, ml, clipper |"),
            std::string::npos);
}

RC_GTEST_PROP(config_emit_property, a_valid_config_survives_emit_and_load, ()) {
  auto cfg = *valid_config();
  auto yaml = to_yaml(cfg);
  auto result = load({{"emitted.yaml", yaml, false}});
  if (!result.ok())
    RC_FAIL(result.errors.front().to_string() + "\n" + yaml);
  RC_ASSERT(result.config == cfg);
}
