#include "config/live.hpp"

#include <array>
#include <map>
#include <regex>

#include <boost/json.hpp>

#include "config/emit.hpp"
#include "runtime/policy/text.hpp"

namespace batching::config {

namespace {

/// Dotted path -> the value's JSON text, for every scalar (and array).
void flatten(const boost::json::value& v, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.as_object())
      flatten(kv.value(),
              path.empty() ? std::string{kv.key()}
                           : path + "." + std::string{kv.key()},
              out);
    return;
  }
  // Numbers as people write them ("9", not boost's "9E0"): still JSON.
  out.emplace_back(path, v.is_double() ? format_number(v.as_double())
                                       : boost::json::serialize(v));
}

const std::array<const char*, 7> live_patterns{
  "coordinator.max_concurrent_jobs",
  "batching.min_batch_size",
  "batching.max_batch_size",
  "operation_configs.<type>.strategy",
  "operation_configs.<type>.preferred_batch_size",
  "operation_configs.<type>.max_batch_size",
  "backends.<name>.initial_requests_per_second"};

} // namespace

bool is_live_key(const std::string& key) {
  static const std::regex live{
    "coordinator\\.max_concurrent_jobs|batching\\.(min|max)_batch_size"
    "|operation_configs\\.[^.]+\\.(strategy|preferred_batch_size|max_batch_"
    "size)|backends\\.[^.]+\\.initial_requests_per_second"};
  return std::regex_match(key, live);
}

std::vector<std::string> live_keys() {
  return {live_patterns.begin(), live_patterns.end()};
}

live_diff diff_live(const runtime_config& running, const runtime_config& next) {
  std::vector<std::pair<std::string, std::string>> a, b;
  flatten(to_json(running), "", a);
  flatten(to_json(next), "", b);
  std::map<std::string, std::string> before(a.begin(), a.end());
  live_diff d;
  std::map<std::string, bool> seen;
  for (const auto& [key, value] : b) {
    seen[key] = true;
    auto it = before.find(key);
    if (it != before.end() && it->second == value)
      continue;
    if (it != before.end() && is_live_key(key))
      d.changes.push_back({key, it->second, value});
    else
      d.refused.push_back(key);
  }
  for (const auto& [key, _] : a)
    if (!seen.count(key))
      d.refused.push_back(key); // gone
  return d;
}

boost::json::value public_json(const runtime_config& cfg) {
  auto v = to_json(cfg);
  auto& o = v.as_object();
  auto redact_values = [](boost::json::value* m) {
    if (m && m->is_object())
      for (auto& kv : m->as_object())
        kv.value() = "<redacted>";
  };
  if (auto* s = o.if_contains("server"); s && s->is_object())
    if (auto* t = s->as_object().if_contains("token");
        t && t->is_string() && !t->as_string().empty())
      *t = "<redacted>";
  if (auto* bs = o.if_contains("backends"); bs && bs->is_object())
    for (auto& kv : bs->as_object())
      if (auto* h = kv.value().as_object().if_contains("http");
          h && h->is_object())
        redact_values(h->as_object().if_contains("headers"));
  // A webhook's path often is its secret (Slack's are): scheme and host
  // stay, so the URL still says where alerts go and reads back valid.
  auto redact_paths = [](boost::json::value* m) {
    if (!m || !m->is_object())
      return;
    for (auto& kv : m->as_object()) {
      if (!kv.value().is_string())
        continue;
      std::string url{kv.value().as_string()};
      auto scheme = url.find("://");
      auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
      kv.value() = url.substr(0, path) + "/<redacted>";
    }
  };
  if (auto* m = o.if_contains("monitoring"); m && m->is_object())
    if (auto* a = m->as_object().if_contains("alerting"); a && a->is_object()) {
      redact_paths(a->as_object().if_contains("webhooks"));
      redact_values(a->as_object().if_contains("headers"));
    }
  return v;
}

load_result apply_patch(const runtime_config& running, const std::string& patch,
                        const std::string& name) {
  return load({{"(running configuration)", to_yaml(running), false},
               {name, patch, false}});
}

} // namespace batching::config
