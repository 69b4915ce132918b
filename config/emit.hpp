#pragma once

// Writes a runtime_config out: as YAML that load() reads back to an equal
// struct, as a Boost.JSON value, and as the key reference table of
// docs/configuration.md. All three walk the schema (schema.hpp).

#include <string>

#include <boost/json/value.hpp>

#include "runtime/policy/settings.hpp"

namespace batching::config {

/// Every key of `cfg` as YAML, in schema order.
std::string to_yaml(const runtime_config& cfg);

/// Every key of `cfg` as a JSON object, in schema order.
boost::json::value to_json(const runtime_config& cfg);

/// A Markdown table of every key: path, type, default, range, meaning.
std::string key_reference();

} // namespace batching::config
