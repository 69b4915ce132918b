#pragma once

// The dashboard in the Prometheus text exposition format (version 0.0.4):
// one family per figure, `batching_` prefix, base units in the names
// (seconds, bytes), `_total` on counters, labels `op_type` per batcher and
// `resource` per resource. docs/metrics.md lists every family.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/messages.hpp"

namespace batching {

/// With resource sampling, also each resource's trend (-1, 0, 1) and the
/// recommendations by type.
std::string prometheus_text(const dashboard& d,
                            const std::optional<resource_trends>& trends = {},
                            const std::vector<recommendation>& advice = {});

} // namespace batching
