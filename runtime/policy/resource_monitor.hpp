#pragma once

// Resource thresholds, trends and recommendations (the seed's resource
// monitor), fed one snapshot at a time.
//
// Algorithm.
//   Reading per resource, in percent: cpu, memory, disk busy, and network
//   (rx + tx) * 8 / network_capacity_mbit_s.
//   Alerts: the level a reading implies is critical (>= critical), warning
//   (>= warning) or normal. When that level differs from the resource's
//   alert level and has held for sustained_seconds (every reading since it
//   was first seen implied it), the alert level moves there and an alert is
//   emitted (level `cleared` when it moves back to normal).
//   Trend over a window W (trend_window_seconds unless asked; readings
//   are kept for max(trend_window_seconds, max_trend_window)): the
//   least-squares slope of the readings within W of the latest, times W:
//   increasing when that fitted change is more than +5 points, decreasing
//   below -5, else stable (at least 3 readings, else stable).
//   Pressure (for batch sizing): 1 if any alert is critical, 0.5 if any is
//   a warning, else 0.
//   Recommendations: per raised alert, per increasing trend of memory
//   (possible leak), and the scaling rules: cpu >= scale_up.cpu_threshold
//   for its sustained duration -> scale_up; cpu <= scale_down.cpu_threshold
//   for its duration -> scale_down.
// Invariants: alerts alternate per resource (no repeated level); a level
// shorter than sustained_seconds never raises an alert.

#include <array>
#include <deque>
#include <optional>
#include <vector>

#include "runtime/policy/settings.hpp"
#include "runtime/policy/types.hpp"

namespace batching {

/// Resource pressure implied by an alert level: 0 none, 0.5 warning,
/// 1 critical (what batch-size strategies react to).
constexpr double pressure_of(alert_level level) {
  return level == alert_level::critical  ? 1.0
         : level == alert_level::warning ? 0.5
                                         : 0.0;
}

class resource_monitor {
public:
  resource_monitor(resource_thresholds_config thresholds,
                   scaling_config scaling, sampling_config sampling);

  /// Feeds a snapshot; returns the alerts it raised or cleared.
  std::vector<resource_alert> observe(const resource_snapshot& snap);

  /// The reading of `r` in percent from a snapshot.
  double percent(const resource_snapshot& snap, resource_kind r) const;

  /// The longest window a trend may be asked for (the seed's
  /// get_performance_trend(window_minutes) with up to an hour).
  static constexpr duration max_trend_window = std::chrono::hours{1};

  /// Over trend_window_seconds.
  trend trend_of(resource_kind r) const;
  resource_trends trends() const;

  /// Over the last `window` (clamped to (0, max_trend_window]).
  trend trend_of(resource_kind r, duration window) const;
  resource_trends trends(duration window) const;

  /// The fitted change of `r` over `window`, in percentage points (what
  /// trend_of classifies); 0 with fewer than 3 readings.
  double change_of(resource_kind r, duration window) const;

  /// Alerts currently raised (warning or critical).
  std::vector<resource_alert> active_alerts() const;

  double pressure() const;

  std::vector<recommendation> recommendations() const;

  const std::optional<resource_snapshot>& latest() const { return latest_; }

private:
  struct tracker {
    alert_level level = alert_level::cleared; // current alert level
    alert_level candidate = alert_level::cleared;
    time_point candidate_since{};
    resource_alert last_alert;
    std::deque<std::pair<time_point, double>> window;
  };

  const threshold_levels& levels_of(resource_kind r) const;
  bool held(double threshold, bool above, duration d) const;

  resource_thresholds_config thresholds_;
  scaling_config scaling_;
  sampling_config sampling_;
  std::array<tracker, 4> trackers_;
  std::optional<resource_snapshot> latest_;
  std::deque<std::pair<time_point, double>> cpu_history_; // for scaling
};

} // namespace batching
