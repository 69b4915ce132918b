#pragma once

// Where resource readings come from. The sampler actor reads a probe each
// period; production uses linux_probe (/proc), tests and the simulator use a
// scripted probe, so alerts and trends are testable in virtual time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/policy/types.hpp"

namespace batching {

class resource_probe {
public:
  virtual ~resource_probe() = default;

  /// A reading at `now`. Rates are over the time since the previous read
  /// (zero on the first).
  virtual resource_snapshot read(time_point now) = 0;
};

/// Reads /proc/stat, /proc/meminfo, /proc/net/dev, /proc/diskstats and
/// /proc/loadavg (under `proc_root`, for tests).
std::unique_ptr<resource_probe> make_linux_probe(std::string proc_root
                                                 = "/proc");

/// Calls `script(now)` for each reading.
std::unique_ptr<resource_probe>
make_scripted_probe(std::function<resource_snapshot(time_point)> script);

} // namespace batching
