#pragma once

// The dashboard in the Prometheus text exposition format (version 0.0.4):
// one family per figure, `batching_` prefix, base units in the names
// (seconds, bytes), `_total` on counters, labels `op_type` per batcher and
// `resource` per resource. docs/metrics.md lists every family.

#include <string>

#include "messages/messages.hpp"

namespace batching {

std::string prometheus_text(const dashboard& d);

} // namespace batching
