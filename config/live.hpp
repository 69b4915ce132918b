#pragma once

// Live changes: the keys that may change while the runtime runs, what a new
// configuration changes against the running one, and a patch (the files'
// keys, as YAML or JSON text) applied to the running configuration and
// validated like a file.
//
// Live keys: coordinator.max_concurrent_jobs; batching.min_batch_size and
// batching.max_batch_size; operation_configs.<type>.strategy,
// .preferred_batch_size and .max_batch_size; backends.<name>.
// initial_requests_per_second. Anything else (a new type or backend, a
// URL, the journal, the cluster) needs a restart: a diff that touches it
// is refused whole.

#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "config/loader.hpp"

namespace batching::config {

struct live_change {
  std::string key; // e.g. operation_configs.write.strategy
  std::string from;
  std::string to;

  bool operator==(const live_change&) const = default;
};

struct live_diff {
  std::vector<live_change> changes; // of live keys, in schema order
  std::vector<std::string> refused; // changed keys that are not live
};

/// Whether `key` (a dotted path) may change while running.
bool is_live_key(const std::string& key);

/// The live keys, as patterns ("operation_configs.<type>.strategy").
std::vector<std::string> live_keys();

/// Every key whose value differs between `running` and `next`.
live_diff diff_live(const runtime_config& running, const runtime_config& next);

/// `cfg` as JSON (config::to_json) with its secrets replaced by
/// "<redacted>": server.token, HTTP header values, webhook URLs' paths
/// (GET /v1/config; it reads back as a valid configuration).
boost::json::value public_json(const runtime_config& cfg);

/// `running` with `patch` applied over it (maps merge deeply, as files
/// do), validated as a whole; diagnostics name `name` with line and
/// column of the patch.
load_result apply_patch(const runtime_config& running, const std::string& patch,
                        const std::string& name);

} // namespace batching::config
