#include "runtime/http/http_api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <optional>

#include <boost/json.hpp>

#include "config/live.hpp"
#include "runtime/policy/enum_names.hpp"
#include "runtime/policy/http_mapping.hpp"
#include "runtime/policy/version.hpp"
#include "runtime/system/dashboard_json.hpp"

namespace batching {

namespace json = boost::json;

namespace {

http_reply json_reply(unsigned status, const json::value& v) {
  http_reply r;
  r.status = status;
  r.body = json::serialize(v);
  r.body += '\n';
  return r;
}

http_reply error_reply(unsigned status, const std::string& message) {
  return json_reply(status, json::object{{"error", message}});
}

std::optional<std::uint64_t> to_id(std::string_view s) {
  std::uint64_t x = 0;
  if (s.empty())
    return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return x;
}

// "a=1&b=2" of the target's query; the last value of `key`.
std::string query_value(const std::string& target, const std::string& key) {
  auto q = target.find('?');
  if (q == std::string::npos)
    return {};
  std::string_view rest{target};
  rest.remove_prefix(q + 1);
  std::string found;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      found
        = eq == std::string_view::npos ? "" : std::string{pair.substr(eq + 1)};
    if (amp == std::string_view::npos)
      break;
    rest.remove_prefix(amp + 1);
  }
  return found;
}

/// "unknown field 'k' (expected a, b, c)" for the first key of `obj` not
/// among `fields`; nothing when every key is known.
std::optional<std::string>
unknown_field(const json::object& obj,
              std::initializer_list<std::string_view> fields) {
  for (const auto& kv : obj)
    if (std::find(fields.begin(), fields.end(), kv.key()) == fields.end()) {
      std::string known;
      for (auto f : fields) {
        if (!known.empty())
          known += ", ";
        known += f;
      }
      return "unknown field '" + std::string{kv.key()} + "' (expected " + known
             + ")";
    }
  return std::nullopt;
}

} // namespace

http_api::http_api(runtime& rt, options opts)
  : rt_(rt), opts_(std::move(opts)),
    next_operation_id_(std::max<std::uint64_t>(1, opts_.first_operation_id)) {
  // nop
}

bool http_api::authorized(const http_request& req) const {
  if (opts_.token.empty())
    return true;
  auto header = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() < scheme.size() || header.compare(0, scheme.size(), scheme))
    return false;
  return constant_time_equal(std::string_view{header}.substr(scheme.size()),
                             opts_.token);
}

void http_api::remember(std::uint64_t job_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  recent_.push_back(job_id);
  while (recent_.size() > opts_.recent_jobs)
    recent_.pop_front();
}

http_reply http_api::handle(const http_request& req) {
  try {
    auto path = req.path();
    bool mutating = req.method == "POST" || req.method == "DELETE"
                    || req.method == "PUT" || req.method == "PATCH";
    if (mutating && !authorized(req)) {
      auto r = error_reply(401, "missing or wrong bearer token");
      r.headers["WWW-Authenticate"] = "Bearer";
      return r;
    }
    auto only = [&](const char* method) { return req.method == method; };
    auto not_allowed = [&](const std::string& allow) {
      auto r = error_reply(405, req.method + " is not allowed on " + path
                                  + " (allowed: " + allow + ")");
      r.headers["Allow"] = allow;
      return r;
    };
    if (path == "/healthz") {
      if (!only("GET"))
        return not_allowed("GET");
      return rt_.running()
               ? json_reply(
                 200, json::object{{"status", "ok"}, {"version", version()}})
               : json_reply(503, json::object{{"status", "stopped"},
                                              {"version", version()}});
    }
    if (path == "/" || path == "/index.html") {
      if (!only("GET"))
        return not_allowed("GET");
      http_reply r;
      r.content_type = "text/html; charset=utf-8";
      r.body = dashboard_page();
      return r;
    }
    if (path == "/metrics") {
      if (!only("GET"))
        return not_allowed("GET");
      http_reply r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = rt_.metrics_text();
      if (r.body.empty())
        return error_reply(503, "the runtime did not answer in time");
      return r;
    }
    if (path == "/v1/dashboard") {
      if (!only("GET"))
        return not_allowed("GET");
      return dashboard();
    }
    if (path == "/v1/predict") {
      if (!only("POST"))
        return not_allowed("POST");
      return predict(req);
    }
    if (path == "/v1/insights") {
      if (!only("GET"))
        return not_allowed("GET");
      return insights();
    }
    if (path == "/v1/recommendations") {
      if (!only("GET"))
        return not_allowed("GET");
      return recommendations();
    }
    if (path == "/v1/trends") {
      if (!only("GET"))
        return not_allowed("GET");
      return trends(req);
    }
    if (path == "/v1/config") {
      if (only("GET")) {
        // The configuration names backends and webhooks: behind the token
        // too (secrets redacted anyway).
        if (!authorized(req)) {
          auto r = error_reply(401, "missing or wrong bearer token");
          r.headers["WWW-Authenticate"] = "Bearer";
          return r;
        }
        return json_reply(200, config::public_json(rt_.config()));
      }
      if (only("PATCH"))
        return patch_config(req);
      return not_allowed("GET, PATCH");
    }
    if (path == "/v1/ab-tests") {
      if (!only("POST"))
        return not_allowed("POST");
      return start_ab_test(req);
    }
    constexpr std::string_view ab_prefix = "/v1/ab-tests/";
    if (path.starts_with(ab_prefix)) {
      if (!only("GET"))
        return not_allowed("GET");
      return ab_test_result_of(path.substr(ab_prefix.size()));
    }
    if (path == "/v1/jobs") {
      if (only("POST"))
        return submit(req);
      if (only("GET"))
        return list_jobs();
      return not_allowed("GET, POST");
    }
    constexpr std::string_view jobs_prefix = "/v1/jobs/";
    if (path.starts_with(jobs_prefix)) {
      auto id = to_id(std::string_view{path}.substr(jobs_prefix.size()));
      if (!id)
        return error_reply(404, "no job '" + path.substr(jobs_prefix.size())
                                  + "' (job ids are whole numbers)");
      if (!only("GET") && !only("DELETE"))
        return not_allowed("GET, DELETE");
      return job(req, *id);
    }
    return error_reply(404, "no such endpoint: " + path);
  } catch (const std::exception& e) {
    // The runtime stopped underneath (require_running) or similar.
    return error_reply(503, e.what());
  }
}

http_reply http_api::submit(const http_request& req) {
  std::string why;
  std::string type;
  std::string prio_text;
  double deadline_s = 0;
  std::vector<operation> ops;
  auto next_id = [this] { return next_operation_id_++; };
  auto content_type = req.header("content-type");
  bool lines = content_type.find("ndjson") != std::string::npos
               || content_type.find("jsonlines") != std::string::npos
               || content_type.find("json-seq") != std::string::npos;
  if (lines) {
    // One operation per line; the job's fields come from the query.
    type = query_value(req.target, "type");
    prio_text = query_value(req.target, "priority");
    std::size_t start = 0, line_no = 0;
    while (start <= req.body.size()) {
      auto end = req.body.find('\n', start);
      if (end == std::string::npos)
        end = req.body.size();
      ++line_no;
      std::string_view line{req.body.data() + start, end - start};
      start = end + 1;
      bool blank = true;
      for (auto c : line)
        if (c != ' ' && c != '\r' && c != '\t')
          blank = false;
      if (blank)
        continue;
      if (ops.size() >= opts_.max_operations_per_job)
        return error_reply(413, "more than "
                                  + std::to_string(opts_.max_operations_per_job)
                                  + " operations in one job");
      auto v = parse_json_text(line, why, "line " + std::to_string(line_no));
      if (!v)
        return error_reply(400, why);
      operation op;
      if (!operation_from_json(*v, "line " + std::to_string(line_no), next_id,
                               op, why))
        return error_reply(400, why);
      ops.push_back(std::move(op));
    }
  } else {
    auto v = parse_json_text(req.body, why, "");
    if (!v)
      return error_reply(400, why);
    if (!v->is_object())
      return error_reply(400, "expected a JSON object with type and "
                              "operations");
    const auto& obj = v->as_object();
    if (auto bad = unknown_field(
          obj, {"type", "priority", "operations", "deadline_seconds"}))
      return error_reply(400, *bad);
    auto* t = obj.if_contains("type");
    if (!t || !t->is_string())
      return error_reply(400, "type: expected the operation type's name");
    type = t->as_string().c_str();
    if (auto* p = obj.if_contains("priority")) {
      if (!p->is_string())
        return error_reply(400, "priority: expected one of "
                                  + enum_choices<priority>());
      prio_text = p->as_string().c_str();
    }
    if (auto* d = obj.if_contains("deadline_seconds")) {
      if (!d->is_number() || d->to_number<double>() < 0)
        return error_reply(400, "deadline_seconds: expected a number >= 0");
      deadline_s = d->to_number<double>();
    }
    auto* list = obj.if_contains("operations");
    if (!list || !list->is_array())
      return error_reply(400, "operations: expected an array");
    const auto& arr = list->as_array();
    if (arr.size() > opts_.max_operations_per_job)
      return error_reply(413, std::to_string(arr.size())
                                + " operations in one job; at most "
                                + std::to_string(opts_.max_operations_per_job));
    ops.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      operation op;
      if (!operation_from_json(arr[i], "operations[" + std::to_string(i) + "]",
                               next_id, op, why))
        return error_reply(400, why);
      ops.push_back(std::move(op));
    }
  }
  if (type.empty())
    return error_reply(400, "type: missing (for JSON lines: ?type=NAME)");
  const auto& types = rt_.operation_types();
  if (!std::binary_search(types.begin(), types.end(), type)) {
    std::string known;
    for (const auto& name : types)
      known += (known.empty() ? "" : ", ") + name;
    return error_reply(400, "unknown operation type '" + type
                              + "' (known: " + known + ")");
  }
  auto prio = priority::normal;
  if (!prio_text.empty()) {
    auto parsed = parse_enum<priority>(prio_text);
    if (!parsed)
      return error_reply(400, "priority: unknown '" + prio_text
                                + "' (expected one of: "
                                + enum_choices<priority>() + ")");
    prio = *parsed;
  }
  if (ops.empty())
    return error_reply(400, "operations: a job needs at least one");
  auto count = ops.size();
  auto result
    = rt_.submit_job(type, std::move(ops), prio, from_seconds(deadline_s));
  if (!result) {
    auto status = result.error == error_code::queue_full
                      || result.error == error_code::shutting_down
                      || result.error == error_code::journal_unavailable
                    ? 503u
                    : 400u;
    auto r = error_reply(status, std::string{to_string(result.error)} + ": "
                                   + result.message);
    if (status == 503)
      r.headers["Retry-After"] = "1";
    return r;
  }
  remember(result.job_id);
  return json_reply(
    202,
    json::object{{"job_id", result.job_id},
                 {"operations", count},
                 {"status_url", "/v1/jobs/" + std::to_string(result.job_id)}});
}

http_reply http_api::job(const http_request& req, std::uint64_t id) {
  auto status = req.method == "DELETE" ? rt_.cancel(id) : rt_.status(id);
  if (!status) {
    if (req.method == "DELETE" && rt_.status(id))
      return error_reply(409,
                         "job " + std::to_string(id) + " has already finished");
    return error_reply(404, "no job " + std::to_string(id)
                              + " (unknown, or forgotten after "
                                "finished_job_retention_seconds)");
  }
  return json_reply(200, to_json(*status));
}

boost::json::array http_api::recent_jobs() {
  std::deque<std::uint64_t> ids;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ids = recent_;
  }
  json::array jobs;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it)
    if (auto s = rt_.status(*it))
      jobs.push_back(to_json(*s));
  return jobs;
}

http_reply http_api::list_jobs() {
  return json_reply(200, json::object{{"jobs", recent_jobs()}});
}

http_reply http_api::predict(const http_request& req) {
  std::string why;
  auto v = parse_json_text(req.body, why, "");
  if (!v)
    return error_reply(400, why);
  if (!v->is_object())
    return error_reply(400, "expected a JSON object with type, features and "
                            "target");
  const auto& obj = v->as_object();
  if (auto bad = unknown_field(obj, {"type", "features", "target"}))
    return error_reply(400, *bad);
  auto* t = obj.if_contains("type");
  if (!t || !t->is_string())
    return error_reply(400, "type: expected the operation type's name");
  std::string type = t->as_string().c_str();
  if (!rt_.has_operation_type(type))
    return error_reply(400, "unknown operation type '" + type + "'");
  // Every number of a section by name (but `skip`); what is not given
  // stays 0.
  auto numbers = [](const json::value* sec, const char* section, auto& out,
                    const auto& fields,
                    std::string_view skip) -> std::optional<std::string> {
    if (!sec)
      return std::nullopt;
    if (!sec->is_object())
      return std::string{section} + ": expected an object";
    for (const auto& kv : sec->as_object()) {
      auto key = std::string_view{kv.key()};
      if (key == skip)
        continue;
      auto f = std::find_if(fields.begin(), fields.end(),
                            [&](const auto& e) { return e.first == key; });
      if (f == fields.end()) {
        std::string known;
        for (const auto& e : fields)
          known += (known.empty() ? "" : ", ") + std::string{e.first};
        if (!skip.empty())
          known += ", " + std::string{skip};
        return std::string{section} + ": unknown field '" + std::string{key}
               + "' (expected " + known + ")";
      }
      if (!kv.value().is_number())
        return std::string{section} + "." + std::string{key}
               + ": expected a number";
      out.*(f->second) = kv.value().to_number<double>();
    }
    return std::nullopt;
  };
  feature_vector features;
  if (auto problem = numbers(obj.if_contains("features"), "features", features,
                             feature_fields, ""))
    return error_reply(400, *problem);
  optimization_target target;
  constexpr std::array<
    std::pair<std::string_view, double optimization_target::*>, 3>
    target_fields{
      {{"target_throughput", &optimization_target::target_throughput},
       {"max_response_time_ms", &optimization_target::max_response_time_ms},
       {"min_confidence", &optimization_target::min_confidence}}};
  const auto* tg = obj.if_contains("target");
  if (auto problem = numbers(tg, "target", target, target_fields, "priority"))
    return error_reply(400, *problem);
  if (auto* p = tg ? tg->as_object().if_contains("priority") : nullptr) {
    auto prio = p->is_string()
                  ? parse_enum<target_priority>(p->as_string().c_str())
                  : std::nullopt;
    if (!prio)
      return error_reply(400, "target.priority: expected one of "
                                + enum_choices<target_priority>());
    target.priority = *prio;
  }
  auto p = rt_.predict_optimal_batch_size(type, features, target);
  if (!p)
    return error_reply(503, "the optimizer did not answer in time");
  return json_reply(
    200, json::object{{"op_type", p->op_type},
                      {"batch_size", p->batch_size},
                      {"predicted_throughput", p->predicted_throughput},
                      {"predicted_latency_ms", p->predicted_latency_ms},
                      {"confidence", p->confidence},
                      {"model", p->model}});
}

http_reply http_api::insights() {
  auto in = rt_.optimization_insights();
  if (!in)
    return error_reply(503, "the optimizer did not answer in time");
  json::object scores, importances;
  for (const auto& [k, v] : in->model_scores)
    scores[k] = v;
  for (const auto& [k, v] : in->feature_importances)
    importances[k] = v;
  json::array recs, warnings;
  for (const auto& r : in->recommendations)
    recs.push_back(json::string{r});
  for (const auto& w : in->warnings)
    warnings.push_back(json::string{w});
  return json_reply(
    200, json::object{{"total_predictions", in->total_predictions},
                      {"average_confidence", in->average_confidence},
                      {"model_scores", std::move(scores)},
                      {"feature_importances", std::move(importances)},
                      {"recommendations", std::move(recs)},
                      {"warnings", std::move(warnings)}});
}

http_reply http_api::start_ab_test(const http_request& req) {
  std::string why;
  auto v = parse_json_text(req.body, why, "");
  if (!v)
    return error_reply(400, why);
  if (!v->is_object())
    return error_reply(400, "expected a JSON object with name, control, "
                            "test, duration_seconds, op_type");
  const auto& obj = v->as_object();
  if (auto bad = unknown_field(
        obj, {"name", "control", "test", "duration_seconds", "op_type"}))
    return error_reply(400, *bad);
  ab_test_config cfg;
  auto text = [&](const char* key, std::string& out,
                  bool required) -> std::optional<std::string> {
    auto* x = obj.if_contains(key);
    if (!x)
      return required
               ? std::optional<std::string>{std::string{key} + ": required"}
               : std::nullopt;
    if (!x->is_string())
      return std::string{key} + ": expected a string";
    out = x->as_string().c_str();
    return std::nullopt;
  };
  for (auto problem : {text("name", cfg.name, false),
                       text("control", cfg.control_strategy, true),
                       text("test", cfg.test_strategy, true),
                       text("op_type", cfg.op_type, false)})
    if (problem)
      return error_reply(400, *problem);
  if (cfg.name.empty())
    cfg.name = cfg.control_strategy + " vs " + cfg.test_strategy;
  auto* d = obj.if_contains("duration_seconds");
  if (!d || !d->is_number() || !(d->to_number<double>() > 0)
      || d->to_number<double>() > 7 * 24 * 3600)
    return error_reply(400, "duration_seconds: expected a number of seconds "
                            "above 0 and at most a week (604800)");
  cfg.length = from_seconds(d->to_number<double>());
  if (!cfg.op_type.empty() && !rt_.has_operation_type(cfg.op_type))
    return error_reply(400,
                       "op_type: unknown operation type '" + cfg.op_type + "'");
  std::string error;
  auto id = rt_.start_ab_test(cfg, &error);
  if (!id)
    return error_reply(error.empty() ? 503 : 400,
                       error.empty() ? "the optimizer did not answer in time"
                                     : error);
  auto r = json_reply(
    201, json::object{{"id", *id},
                      {"name", cfg.name},
                      {"control", cfg.control_strategy},
                      {"test", cfg.test_strategy},
                      {"op_type", cfg.op_type},
                      {"duration_seconds", to_seconds(cfg.length)}});
  r.headers["Location"] = "/v1/ab-tests/" + *id;
  return r;
}

http_reply http_api::patch_config(const http_request& req) {
  auto patched
    = config::apply_patch(rt_.config(), req.body, "PATCH /v1/config");
  if (!patched.ok()) {
    std::string all;
    for (const auto& e : patched.errors) {
      if (!all.empty())
        all += '\n';
      all += e.to_string(); // piecewise: g++ 12's false -Wrestrict
    }
    return error_reply(400, all);
  }
  std::string error;
  auto changes = rt_.update_config(patched.config, &error);
  if (!changes)
    return error_reply(
      error.find("need a restart") != std::string::npos ? 409 : 503, error);
  json::array list;
  for (const auto& c : *changes)
    list.push_back(json::object{{"key", c.key},
                                {"from", json::parse(c.from)},
                                {"to", json::parse(c.to)}});
  return json_reply(200, json::object{{"changes", std::move(list)}});
}

http_reply http_api::ab_test_result_of(const std::string& id) {
  auto r = rt_.analyze_ab_test(id);
  if (!r)
    return error_reply(404, "no A/B test '" + id + "'");
  return json_reply(200, to_json(*r));
}

http_reply http_api::recommendations() {
  auto recs = rt_.recommendations();
  if (!recs)
    return error_reply(503, "the resource sampler did not answer in time");
  json::array list;
  for (const auto& r : *recs)
    list.push_back(json::object{{"type", r.type}, {"recommendation", r.text}});
  return json_reply(
    200, json::object{{"recommendations", std::move(list)},
                      {"resource_sampling", rt_.samples_resources()}});
}

http_reply http_api::trends(const http_request& req) {
  double minutes = 10;
  auto text = query_value(req.target, "window_minutes");
  if (!text.empty()) {
    auto [end, ec]
      = std::from_chars(text.data(), text.data() + text.size(), minutes);
    if (ec != std::errc{} || end != text.data() + text.size()
        || !(minutes > 0 && minutes <= 60))
      return error_reply(400, "window_minutes: expected a number of minutes "
                              "in (0, 60], got '"
                                + text + "'");
  }
  auto t = rt_.trends(from_seconds(minutes * 60));
  if (!t)
    return error_reply(503, "the resource sampler did not answer in time");
  return json_reply(
    200, json::object{{"window_minutes", minutes},
                      {"cpu", to_string(t->cpu)},
                      {"memory", to_string(t->memory)},
                      {"network", to_string(t->network)},
                      {"disk", to_string(t->disk)},
                      {"resource_sampling", rt_.samples_resources()}});
}

http_reply http_api::dashboard() {
  auto board = rt_.dashboard();
  if (board.is_object())
    board.as_object()["jobs"] = recent_jobs();
  return json_reply(200, board);
}

} // namespace batching
