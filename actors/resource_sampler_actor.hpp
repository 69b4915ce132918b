#pragma once

// The resource sampler: reads its probe every sampling.interval_seconds,
// feeds the resource_monitor policy, and broadcasts each snapshot and each
// alert to its subscribers as one shared message (not a copy per
// subscriber). Answers the latest snapshot, trends, active alerts and
// recommendations.

#include <memory>

#include "actors/resource_probe.hpp"
#include "messages/interfaces.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct sampler_config {
  resource_thresholds_config thresholds;
  scaling_config scaling;
  sampling_config sampling;
};

/// `probe` is shared so the caller may keep scripting it.
resource_sampler_actor
spawn_resource_sampler(caf::actor_system& sys, sampler_config cfg,
                       std::shared_ptr<resource_probe> probe);

} // namespace batching
