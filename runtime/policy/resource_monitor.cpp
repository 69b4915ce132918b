#include "runtime/policy/resource_monitor.hpp"

#include <algorithm>

#include "runtime/policy/text.hpp"

namespace batching {

namespace {

constexpr std::array<resource_kind, 4> all_resources{
  resource_kind::cpu, resource_kind::memory, resource_kind::network,
  resource_kind::disk};

std::string one_decimal(double x) { return format_fixed(x, 1); }

} // namespace

resource_monitor::resource_monitor(resource_thresholds_config thresholds,
                                   scaling_config scaling,
                                   sampling_config sampling)
  : thresholds_(thresholds), scaling_(scaling), sampling_(sampling) {
  // nop
}

const threshold_levels& resource_monitor::levels_of(resource_kind r) const {
  switch (r) {
    case resource_kind::cpu: return thresholds_.cpu;
    case resource_kind::memory: return thresholds_.memory;
    case resource_kind::network: return thresholds_.network;
    default: return thresholds_.disk;
  }
}

double resource_monitor::percent(const resource_snapshot& snap,
                                 resource_kind r) const {
  switch (r) {
    case resource_kind::cpu: return snap.cpu_percent;
    case resource_kind::memory: return snap.memory_percent;
    case resource_kind::network:
      return (snap.net_rx_bytes_per_s + snap.net_tx_bytes_per_s) * 8.0 / 1e6
             / thresholds_.network_capacity_mbit_s * 100.0;
    default: return snap.disk_busy_percent;
  }
}

std::vector<resource_alert>
resource_monitor::observe(const resource_snapshot& snap) {
  std::vector<resource_alert> raised;
  auto now = snap.at;
  auto window = std::max(from_seconds(sampling_.trend_window_seconds),
                         duration{max_trend_window});
  for (auto r : all_resources) {
    auto& t = trackers_[static_cast<std::size_t>(r)];
    const auto& lv = levels_of(r);
    auto value = percent(snap, r);
    t.window.emplace_back(now, value);
    while (!t.window.empty() && now - t.window.front().first > window)
      t.window.pop_front();
    auto implied = value >= lv.critical  ? alert_level::critical
                   : value >= lv.warning ? alert_level::warning
                                         : alert_level::cleared;
    if (implied != t.candidate) {
      t.candidate = implied;
      t.candidate_since = now;
    }
    if (t.candidate == t.level
        || now - t.candidate_since < from_seconds(lv.sustained_seconds))
      continue;
    t.level = t.candidate;
    resource_alert alert;
    alert.at = now;
    alert.level = t.level;
    alert.resource = r;
    alert.value = value;
    alert.threshold
      = t.level == alert_level::critical ? lv.critical : lv.warning;
    auto name = to_string(r);
    if (t.level == alert_level::cleared)
      alert.message = name + " back to " + one_decimal(value) + "% (below "
                      + format_number(lv.warning) + "% for "
                      + format_number(lv.sustained_seconds) + " s)";
    else
      alert.message = name + " at " + one_decimal(value)
                      + "% >= " + to_string(t.level) + " "
                      + format_number(alert.threshold) + "% for "
                      + format_number(lv.sustained_seconds) + " s";
    t.last_alert = alert;
    raised.push_back(std::move(alert));
  }
  cpu_history_.emplace_back(now, snap.cpu_percent);
  auto keep
    = from_seconds(std::max(scaling_.scale_up.sustained_duration_seconds,
                            scaling_.scale_down.sustained_duration_seconds));
  while (cpu_history_.size() > 1 && now - cpu_history_[1].first > keep)
    cpu_history_.pop_front();
  latest_ = snap;
  return raised;
}

double resource_monitor::change_of(resource_kind r, duration window) const {
  window = std::clamp(window, duration{1},
                      std::max(duration{max_trend_window},
                               from_seconds(sampling_.trend_window_seconds)));
  const auto& all = trackers_[static_cast<std::size_t>(r)].window;
  if (all.empty())
    return 0;
  auto from = all.back().first - window;
  auto first = std::find_if(all.begin(), all.end(),
                            [&](const auto& e) { return e.first >= from; });
  auto n = static_cast<double>(std::distance(first, all.end()));
  if (n < 3)
    return 0;
  auto t0 = first->first;
  double mean_t = 0, mean_v = 0;
  for (auto it = first; it != all.end(); ++it) {
    mean_t += to_seconds(it->first - t0);
    mean_v += it->second;
  }
  mean_t /= n;
  mean_v /= n;
  double cov = 0, var = 0;
  for (auto it = first; it != all.end(); ++it) {
    auto dt = to_seconds(it->first - t0) - mean_t;
    cov += dt * (it->second - mean_v);
    var += dt * dt;
  }
  return var > 0 ? cov / var * to_seconds(window) : 0;
}

trend resource_monitor::trend_of(resource_kind r, duration window) const {
  auto change = change_of(r, window);
  if (change > 5)
    return trend::increasing;
  if (change < -5)
    return trend::decreasing;
  return trend::stable;
}

trend resource_monitor::trend_of(resource_kind r) const {
  return trend_of(r, from_seconds(sampling_.trend_window_seconds));
}

resource_trends resource_monitor::trends(duration window) const {
  return {trend_of(resource_kind::cpu, window),
          trend_of(resource_kind::memory, window),
          trend_of(resource_kind::network, window),
          trend_of(resource_kind::disk, window)};
}

resource_trends resource_monitor::trends() const {
  return trends(from_seconds(sampling_.trend_window_seconds));
}

std::vector<resource_alert> resource_monitor::active_alerts() const {
  std::vector<resource_alert> result;
  for (const auto& t : trackers_)
    if (t.level != alert_level::cleared)
      result.push_back(t.last_alert);
  return result;
}

double resource_monitor::pressure() const {
  double p = 0;
  for (const auto& t : trackers_)
    p = std::max(p, pressure_of(t.level));
  return p;
}

bool resource_monitor::held(double threshold, bool above, duration d) const {
  if (cpu_history_.empty()
      || cpu_history_.back().first - cpu_history_.front().first < d)
    return false;
  auto from = cpu_history_.back().first - d;
  return std::all_of(
    cpu_history_.begin(), cpu_history_.end(), [&](const auto& s) {
      return s.first < from
             || (above ? s.second >= threshold : s.second <= threshold);
    });
}

std::vector<recommendation> resource_monitor::recommendations() const {
  std::vector<recommendation> result;
  for (auto r : all_resources) {
    const auto& t = trackers_[static_cast<std::size_t>(r)];
    if (t.level == alert_level::cleared)
      continue;
    auto name = to_string(r);
    auto what = r == resource_kind::cpu ? std::string{"reduce_batch_size"}
                : r == resource_kind::memory
                  ? std::string{"reduce_queued_operations"}
                  : std::string{"reduce_request_size"};
    result.push_back({what, name + " is at " + to_string(t.level) + " ("
                              + t.last_alert.message
                              + "): batches shrink and concurrency is "
                                "limited until it clears"});
  }
  if (trend_of(resource_kind::memory) == trend::increasing)
    result.push_back(
      {"memory_leak_check", "Memory usage trending upward - check for leaks"});
  // The scaling rules: cpu beyond a threshold for its sustained duration.
  auto rule = [&](const char* type, const scaling_rule& r, bool above,
                  const char* advice) {
    if (!held(r.cpu_threshold, above,
              from_seconds(r.sustained_duration_seconds)))
      return false;
    result.push_back({type, std::string{"cpu "} + (above ? ">= " : "<= ")
                              + format_number(r.cpu_threshold) + "% for "
                              + format_number(r.sustained_duration_seconds)
                              + " s: " + advice});
    return true;
  };
  if (!rule("scale_up", scaling_.scale_up, true,
            "add capacity (nodes or workers)"))
    rule("scale_down", scaling_.scale_down, false, "capacity can be reduced");
  return result;
}

} // namespace batching
