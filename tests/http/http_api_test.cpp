// The HTTP API of `batching serve` through real sockets: a runtime with an
// in-process executor behind http_server + http_api on 127.0.0.1.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <rapidcheck.h>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "runtime/http/http_api.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/policy/version.hpp"
#include "runtime/system/runtime.hpp"

#include "tests/http/test_client.hpp"
#include "tests/support/damaged_text.hpp"

using namespace batching;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

class api_test : public testing::Test {
protected:
  void start(std::string token = {}, std::uint64_t max_ops = 1000,
             std::uint64_t max_body = 1'000'000,
             std::uint64_t first_operation_id = 1) {
    runtime_config cfg;
    cfg.backends[default_backend].initial_requests_per_second = 0;
    runtime::options opts;
    opts.sample_resources = false;
    rt_ = std::make_unique<runtime>(cfg, opts);
    rt_->set_executor(
      default_backend,
      [this](const batch& b) {
        std::unique_lock<std::mutex> guard{mtx_};
        cv_.wait(guard, [this] { return !paused_; });
        for (const auto& op : b.operations)
          sent_ids_.insert(op.id);
        batch_sizes_.push_back(b.operations.size());
        batch_outcome out;
        out.batch_id = b.batch_id;
        out.latency = 1ms;
        return out;
      },
      2);
    rt_->start();
    api_ = std::make_unique<http_api>(
      *rt_,
      http_api::options{std::move(token), max_ops, 50, first_operation_id});
    http_server::options so;
    so.max_body_bytes = max_body;
    server_ = std::make_unique<http_server>(
      so, [this](const http_request& r) { return api_->handle(r); });
  }

  void TearDown() override {
    resume();
    if (server_)
      server_->stop();
    if (rt_)
      rt_->stop(5s);
  }

  void pause() {
    std::lock_guard<std::mutex> guard{mtx_};
    paused_ = true;
  }

  void resume() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      paused_ = false;
    }
    cv_.notify_all();
  }

  test::response call(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      std::map<std::string, std::string> headers = {}) {
    return test::http_call(server_->port(), method, target, body,
                           std::move(headers));
  }

  static json::value parse(const test::response& r) {
    return json::parse(r.body);
  }

  static std::string error_of(const test::response& r) {
    return std::string{parse(r).at("error").as_string().c_str()};
  }

  std::set<std::uint64_t> sent_ids_;     // under mtx_
  std::vector<std::size_t> batch_sizes_; // under mtx_
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<http_api> api_;
  std::unique_ptr<http_server> server_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool paused_ = false;
};

} // namespace

TEST_F(api_test, health_and_unknown_endpoints) {
  start();
  auto h = call("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, std::string{"{\"status\":\"ok\",\"version\":\""}
                      + batching::version() + "\"}\n");
  EXPECT_EQ(parse(call("GET", "/v1/dashboard")).at("version").as_string(),
            batching::version());
  EXPECT_NE(call("GET", "/")
              .body.find(std::string{"<small id=\"version\">"}
                         + batching::version() + "</small>"),
            std::string::npos);
  auto missing = call("GET", "/v2/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_of(missing), "no such endpoint: /v2/nothing");
  auto wrong = call("PUT", "/v1/jobs", "{}");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers["allow"], "GET, POST");
}

TEST_F(api_test, a_job_as_json_runs_to_completion) {
  start();
  auto r = call("POST", "/v1/jobs",
                R"({"type":"write","priority":"high","operations":[)"
                R"({"id":7,"payload":{"title":"a"}},{"title":"b"},"c"]})");
  ASSERT_EQ(r.status, 202) << r.body;
  auto id = parse(r).at("job_id").to_number<std::uint64_t>();
  EXPECT_EQ(parse(r).at("operations").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(parse(r).at("status_url").as_string(),
            "/v1/jobs/" + std::to_string(id));
  ASSERT_TRUE(rt_->wait(id, 10s).has_value());
  auto s = call("GET", "/v1/jobs/" + std::to_string(id));
  ASSERT_EQ(s.status, 200);
  auto status = parse(s);
  EXPECT_EQ(status.at("status").as_string(), "completed");
  EXPECT_EQ(status.at("priority").as_string(), "high");
  EXPECT_EQ(status.at("succeeded").to_number<std::uint64_t>(), 3u);
  auto list = parse(call("GET", "/v1/jobs"));
  ASSERT_EQ(list.at("jobs").as_array().size(), 1u);
  EXPECT_EQ(
    list.at("jobs").as_array()[0].at("job_id").to_number<std::uint64_t>(), id);
}

TEST_F(api_test, operations_without_ids_count_up_from_the_first_id) {
  // serve starts at its start time in microseconds: a restart never gives
  // an id again.
  start({}, 1000, 1'000'000, 1'700'000'000'000'000);
  auto r
    = call("POST", "/v1/jobs",
           R"({"type":"write","operations":["a",{"id":7,"payload":1},"b"]})");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(rt_->wait(parse(r).at("job_id").to_number<std::uint64_t>(), 10s));
  std::lock_guard<std::mutex> guard{mtx_};
  EXPECT_EQ(sent_ids_, (std::set<std::uint64_t>{7, 1'700'000'000'000'000,
                                                1'700'000'000'000'001}));
}

TEST_F(api_test, operations_streamed_as_json_lines) {
  start();
  std::string lines;
  for (int i = 0; i < 250; ++i)
    lines += "{\"n\":" + std::to_string(i) + "}\n";
  lines += "\n"; // blank lines are skipped
  auto r = call("POST", "/v1/jobs?type=read&priority=low", lines,
                {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 202) << r.body;
  auto id = parse(r).at("job_id").to_number<std::uint64_t>();
  auto done = rt_->wait(id, 10s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->total, 250u);
  EXPECT_EQ(done->succeeded, 250u);
  EXPECT_EQ(done->op_type, "read");
}

TEST_F(api_test, bad_jobs_are_refused_whole_with_the_problem_named) {
  start({}, 5, 2000);
  auto bad_json = call("POST", "/v1/jobs", "{\"type\":\"write\",\n  \"oper");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(error_of(bad_json),
            "malformed JSON at line 2, column 8: incomplete JSON");
  auto bad_line = call("POST", "/v1/jobs?type=write", "{\"a\":1}\n{\"b\":}\n",
                       {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(bad_line.status, 400);
  EXPECT_EQ(error_of(bad_line).rfind("malformed JSON in line 2, column 6: ", 0),
            0u)
    << error_of(bad_line);
  auto unknown
    = call("POST", "/v1/jobs", R"({"type":"delete","operations":[1]})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(error_of(unknown),
            "unknown operation type 'delete' (known: read, write)");
  auto bad_id
    = call("POST", "/v1/jobs",
           R"({"type":"write","operations":[1,2,{"id":-1,"payload":3}]})");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(error_of(bad_id),
            "operations[2].id: expected a non-negative whole number");
  auto too_many = call("POST", "/v1/jobs",
                       R"({"type":"write","operations":[1,2,3,4,5,6]})");
  EXPECT_EQ(too_many.status, 413);
  EXPECT_EQ(error_of(too_many), "6 operations in one job; at most 5");
  auto too_big = call("POST", "/v1/jobs", std::string(3000, ' '));
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(error_of(too_big), "request body larger than 2000 bytes");
  auto bad_prio
    = call("POST", "/v1/jobs",
           R"({"type":"write","priority":"urgent","operations":[1]})");
  EXPECT_EQ(bad_prio.status, 400);
  EXPECT_EQ(error_of(bad_prio), "priority: unknown 'urgent' (expected one of: "
                                "critical, high, normal, low)");
  auto empty = call("POST", "/v1/jobs", R"({"type":"write","operations":[]})");
  EXPECT_EQ(empty.status, 400);
  auto extra = call("POST", "/v1/jobs", R"({"type":"write","ops":[1]})");
  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(error_of(extra), "unknown field 'ops' (expected type, priority, "
                             "operations, deadline_seconds)");
  // Nothing was half-accepted.
  EXPECT_TRUE(parse(call("GET", "/v1/jobs")).at("jobs").as_array().empty());
  auto board = parse(call("GET", "/v1/dashboard"));
  EXPECT_EQ(board.at("coordinator_status")
              .at("queued_operations")
              .to_number<std::uint64_t>(),
            0u);
}

TEST_F(api_test, a_token_guards_every_mutating_endpoint) {
  start("s3cret");
  auto body = R"({"type":"write","operations":[1]})";
  auto none = call("POST", "/v1/jobs", body);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(
    call("POST", "/v1/jobs", body, {{"Authorization", "Bearer s3cres"}}).status,
    401);
  EXPECT_EQ(
    call("POST", "/v1/jobs", body, {{"Authorization", "Bearer s3cret1"}})
      .status,
    401);
  EXPECT_EQ(call("DELETE", "/v1/jobs/1").status, 401);
  auto ok
    = call("POST", "/v1/jobs", body, {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(ok.status, 202) << ok.body;
  // Reading needs no token.
  EXPECT_EQ(call("GET", "/v1/jobs").status, 200);
  EXPECT_EQ(call("GET", "/metrics").status, 200);
}

TEST_F(api_test, delete_cancels_a_running_job) {
  start();
  pause(); // the executor holds every batch
  auto r = call("POST", "/v1/jobs", R"({"type":"write","operations":[1,2,3]})");
  ASSERT_EQ(r.status, 202);
  auto id = std::to_string(parse(r).at("job_id").to_number<std::uint64_t>());
  auto cancelled = call("DELETE", "/v1/jobs/" + id);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  resume();
  auto done = rt_->wait(std::stoull(id), 10s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, job_state::cancelled);
  EXPECT_EQ(call("DELETE", "/v1/jobs/" + id).status, 409);
  EXPECT_EQ(call("DELETE", "/v1/jobs/99999").status, 404);
  EXPECT_EQ(call("GET", "/v1/jobs/abc").status, 404);
}

TEST_F(api_test, metrics_follow_the_prometheus_text_format) {
  start();
  auto r = call("POST", "/v1/jobs", R"({"type":"write","operations":[1,2,3]})");
  ASSERT_TRUE(rt_->wait(parse(r).at("job_id").to_number<std::uint64_t>(), 10s)
                .has_value());
  auto m = call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = m.body;
  EXPECT_NE(text.find("# TYPE batching_items_succeeded_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("batching_items_succeeded_total{op_type=\"write\"} 3\n"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("batching_item_latency_seconds_bucket{op_type=\"write\","
                      "le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("batching_item_latency_seconds_count{op_type=\"write\"} "
                      "3\n"),
            std::string::npos);
  EXPECT_NE(text.find("batching_circuit_breaker_state{op_type=\"read\"} 0\n"),
            std::string::npos);
  // Every line is a comment or `name{labels} value`; every sample's family
  // has HELP and TYPE; counters end in _total; buckets are cumulative.
  std::regex sample{R"(^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN)$)"};
  std::set<std::string> typed;
  std::istringstream lines{text};
  std::string line;
  double last_bucket = -1;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t{line.substr(7)};
      std::string name, type;
      t >> name >> type;
      typed.insert(name);
      if (type == "counter") {
        EXPECT_TRUE(name.ends_with("_total")) << name;
      }
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0)
      continue;
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, sample)) << line;
    auto name = match[1].str();
    auto family = name;
    for (auto suffix : {"_bucket", "_sum", "_count"})
      if (!typed.count(family) && name.ends_with(suffix))
        family = name.substr(0, name.size() - std::string{suffix}.size());
    EXPECT_TRUE(typed.count(family)) << "no TYPE for " << name;
    if (name.ends_with("_bucket")) {
      auto v = std::stod(match[3].str());
      if (line.find("le=\"0.005\"") != std::string::npos)
        last_bucket = -1;
      EXPECT_GE(v, last_bucket) << line;
      last_bucket = v;
    }
  }
}

TEST_F(api_test, trends_and_recommendations_without_resource_sampling) {
  start();
  auto t = call("GET", "/v1/trends?window_minutes=5");
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.body, "{\"window_minutes\":5E0,\"cpu\":\"stable\",\"memory\":"
                    "\"stable\",\"network\":\"stable\",\"disk\":\"stable\","
                    "\"resource_sampling\":false}\n");
  auto r = call("GET", "/v1/recommendations");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"recommendations\":[],\"resource_sampling\":false}\n");
  for (auto bad : {"0", "61", "-1", "abc", "5min"}) {
    auto b = call("GET", std::string{"/v1/trends?window_minutes="} + bad);
    EXPECT_EQ(b.status, 400) << bad;
    EXPECT_NE(error_of(b).find("window_minutes: expected a number of minutes "
                               "in (0, 60]"),
              std::string::npos);
  }
  EXPECT_EQ(call("POST", "/v1/recommendations", "{}").status, 405);
  EXPECT_EQ(call("DELETE", "/v1/trends").status, 405);
  // No trend families without sampling.
  EXPECT_EQ(call("GET", "/metrics").body.find("batching_resource_trend"),
            std::string::npos);
}

// Resource sampling from a /proc of the test's own: memory held at 95%
// raises a critical alert at once (sustained 0 s), which the
// recommendations, their metric and the trends report.
TEST(api_resources, recommendations_trends_and_their_metrics) {
  auto proc = std::filesystem::temp_directory_path()
              / ("batching_proc_" + std::to_string(::getpid()));
  std::filesystem::create_directories(proc / "net");
  std::ofstream{proc / "meminfo"} << "MemTotal: 1000 kB\nMemAvailable: 50 "
                                     "kB\n";
  std::ofstream{proc / "stat"} << "cpu 1 0 1 100 0 0 0 0 0 0\n";
  std::ofstream{proc / "loadavg"} << "0.1 0.1 0.1 1/1 1\n";
  std::ofstream{proc / "diskstats"};
  std::ofstream{proc / "net" / "dev"};
  runtime_config cfg;
  cfg.backends[default_backend].initial_requests_per_second = 0;
  cfg.sampling.interval_seconds = 0.05;
  cfg.resource_thresholds.memory = {75, 90, 0};
  runtime::options opts;
  opts.proc_root = proc.string();
  runtime rt{cfg, opts};
  rt.set_executor(default_backend,
                  [](const batch&) { return batch_outcome{}; });
  rt.start();
  http_api api{rt, {}};
  http_server server{{}, [&](const http_request& r) { return api.handle(r); }};
  EXPECT_TRUE(rt.samples_resources());
  // The sampler's first readings arrive within a few periods.
  test::response r;
  for (int i = 0; i < 100; ++i) {
    r = test::http_call(server.port(), "GET", "/v1/recommendations", {}, {});
    if (r.body.find("reduce_queued_operations") != std::string::npos)
      break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(r.status, 200);
  auto body = json::parse(r.body).as_object();
  EXPECT_TRUE(body.at("resource_sampling").as_bool());
  auto list = body.at("recommendations").as_array();
  ASSERT_FALSE(list.empty()) << r.body;
  EXPECT_EQ(list[0].at("type").as_string(), "reduce_queued_operations");
  EXPECT_NE(std::string{list[0].at("recommendation").as_string().c_str()}.find(
              "memory is at critical"),
            std::string::npos)
    << r.body;
  auto t = test::http_call(server.port(), "GET", "/v1/trends", {}, {});
  ASSERT_EQ(t.status, 200);
  auto trends = json::parse(t.body).as_object();
  EXPECT_EQ(trends.at("window_minutes").to_number<double>(), 10);
  EXPECT_EQ(trends.at("memory").as_string(), "stable"); // held at 95%
  EXPECT_TRUE(trends.at("resource_sampling").as_bool());
  auto m = test::http_call(server.port(), "GET", "/metrics", {}, {});
  EXPECT_NE(m.body.find("batching_resource_trend{resource=\"memory\"} 0\n"),
            std::string::npos)
    << m.body;
  EXPECT_NE(m.body.find("batching_recommendations{type=\""
                        "reduce_queued_operations\"} 1\n"),
            std::string::npos);
  // The host API says the same.
  auto recs = rt.recommendations();
  ASSERT_TRUE(recs.has_value());
  ASSERT_FALSE(recs->empty());
  EXPECT_EQ(recs->front().type, "reduce_queued_operations");
  EXPECT_EQ(rt.trends(30min)->memory, trend::stable);
  server.stop();
  rt.stop(1s);
  std::filesystem::remove_all(proc);
}

TEST_F(api_test, predictions_insights_and_host_training) {
  start();
  // Untrained: the size asked about, confidence 0.
  auto p
    = call("POST", "/v1/predict",
           R"({"type":"write","features":{"batch_size":40,"arrival_rate":90},
                    "target":{"priority":"throughput","max_response_time_ms":2000}})");
  ASSERT_EQ(p.status, 200) << p.body;
  auto answer = parse(p).as_object();
  EXPECT_EQ(answer.at("op_type").as_string(), "write");
  EXPECT_EQ(answer.at("batch_size").to_number<int>(), 40);
  EXPECT_EQ(answer.at("confidence").to_number<double>(), 0);
  for (auto [body, problem] :
       {std::pair{R"({"type":"delete"})", "unknown operation type 'delete'"},
        std::pair{R"({"type":"write","features":{"size":1}})",
                  "features: unknown field 'size' (expected batch_size, "
                  "in_flight_batches"},
        std::pair{R"({"type":"write","features":{"batch_size":"x"}})",
                  "features.batch_size: expected a number"},
        std::pair{R"({"type":"write","target":{"priority":"fast"}})",
                  "target.priority: expected one of"},
        std::pair{R"({"type":"write","target":{"speed":1}})",
                  "target: unknown field 'speed' (expected target_throughput, "
                  "max_response_time_ms, min_confidence, priority)"},
        std::pair{R"({"type":"write","extra":1})", "unknown field 'extra'"},
        std::pair{R"([1])", "expected a JSON object"}}) {
    auto r = call("POST", "/v1/predict", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(error_of(r).find(problem), std::string::npos)
      << body << ": " << error_of(r);
  }
  EXPECT_EQ(call("GET", "/v1/predict").status, 405);
  // The host's own samples, then a training on demand.
  std::vector<training_sample> samples;
  for (int i = 0; i < 30; ++i) {
    training_sample s;
    s.op_type = "write";
    s.features.batch_size = 10 + 3 * i;
    s.throughput = 100 + 2 * i;
    s.item_latency_ms = 200 + 5 * i;
    s.success_rate = 1;
    samples.push_back(s);
  }
  rt_->add_training_data(samples);
  std::string why;
  auto report = rt_->train("write", &why);
  ASSERT_TRUE(report.has_value()) << why;
  EXPECT_TRUE(report->trained);
  EXPECT_GE(report->samples, 30u);
  EXPECT_FALSE(rt_->train("delete", &why).has_value());
  EXPECT_NE(why.find("no operation type 'delete'"), std::string::npos) << why;
  auto in = call("GET", "/v1/insights");
  ASSERT_EQ(in.status, 200);
  auto insights = parse(in).as_object();
  EXPECT_EQ(insights.at("total_predictions").to_number<int>(), 1);
  EXPECT_GE(insights.at("model_scores")
              .as_object()
              .at("write.samples_trained")
              .to_number<double>(),
            30);
}

TEST_F(api_test, ab_tests_start_scoped_and_report_over_the_socket) {
  start("s3cret");
  auto body = R"({"name":"sizes","control":"static","test":"adaptive",
                  "duration_seconds":60,"op_type":"write"})";
  EXPECT_EQ(call("POST", "/v1/ab-tests", body).status, 401); // the token
  auto auth
    = std::map<std::string, std::string>{{"Authorization", "Bearer s3cret"}};
  auto r = call("POST", "/v1/ab-tests", body, auth);
  ASSERT_EQ(r.status, 201) << r.body;
  auto started = parse(r).as_object();
  auto id = std::string{started.at("id").as_string()};
  EXPECT_EQ(r.headers["location"], "/v1/ab-tests/" + id);
  EXPECT_EQ(started.at("op_type").as_string(), "write");
  EXPECT_EQ(started.at("duration_seconds").to_number<double>(), 60);
  // The host's own scores count too; 40 an arm, the test arm 10 higher.
  for (int i = 0; i < 40; ++i) {
    rt_->record_ab_test_result(id, false, 100.0 + i % 5);
    rt_->record_ab_test_result(id, true, 110.0 + i % 5);
  }
  auto got = call("GET", "/v1/ab-tests/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  auto result = parse(got).as_object();
  EXPECT_EQ(result.at("test_id").as_string(), id);
  EXPECT_EQ(result.at("name").as_string(), "sizes");
  EXPECT_EQ(result.at("control_samples").to_number<int>(), 40);
  EXPECT_EQ(result.at("control_batches").to_number<int>(), 10);
  EXPECT_EQ(result.at("method").as_string(), "Welch's t-test over batch means");
  EXPECT_EQ(result.at("recommendation").as_string(), "adopt");
  EXPECT_LT(result.at("p_value").to_number<double>(), 1e-6);
  EXPECT_EQ(call("GET", "/v1/ab-tests/ab-99").status, 404);
  EXPECT_EQ(call("GET", "/v1/ab-tests").status, 405);
  EXPECT_EQ(call("POST", "/v1/ab-tests/" + id, "{}", auth).status, 405);
  for (auto [bad, problem] :
       {std::pair{R"({"control":"static","test":"turbo","duration_seconds":5})",
                  "unknown strategy 'turbo'"},
        std::pair{R"({"control":"static","test":"adaptive"})",
                  "duration_seconds: expected a number"},
        std::pair{R"({"control":"static","test":"adaptive",
                      "duration_seconds":-1})",
                  "duration_seconds: expected a number"},
        std::pair{R"({"test":"adaptive","duration_seconds":5})",
                  "control: required"},
        std::pair{R"({"control":"static","test":"adaptive",
                      "duration_seconds":5,"op_type":"delete"})",
                  "unknown operation type 'delete'"},
        std::pair{R"({"control":"static","test":"adaptive",
                      "duration_seconds":5,"arms":2})",
                  "unknown field 'arms'"},
        std::pair{R"({"control":"static","test":"adaptive",
                      "duration_seconds":5,"ame":"x"})",
                  "unknown field 'ame'"},
        std::pair{R"({"control":1,"test":"adaptive","duration_seconds":5})",
                  "control: expected a string"}}) {
    auto e = call("POST", "/v1/ab-tests", bad, auth);
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_NE(error_of(e).find(problem), std::string::npos)
      << bad << ": " << error_of(e);
  }
}

TEST_F(api_test, live_changes_through_patch_config) {
  start("s3cret");
  auto auth
    = std::map<std::string, std::string>{{"Authorization", "Bearer s3cret"}};
  EXPECT_EQ(call("GET", "/v1/config").status, 401); // names backends
  auto before = call("GET", "/v1/config", {}, auth);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(
    parse(before).at("coordinator").at("max_concurrent_jobs").to_number<int>(),
    10);
  auto body = R"({"coordinator": {"max_concurrent_jobs": 3},
                  "operation_configs": {"write": {"strategy": "static",
                                                  "preferred_batch_size": 20}},
                  "backends": {"default": {"initial_requests_per_second": 9}}})";
  EXPECT_EQ(call("PATCH", "/v1/config", body).status, 401);
  auto r = call("PATCH", "/v1/config", body, auth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto changes = parse(r).at("changes").as_array();
  ASSERT_EQ(changes.size(), 4u) << r.body;
  std::set<std::string> keys;
  for (const auto& c : changes)
    keys.insert(std::string{c.at("key").as_string()});
  EXPECT_EQ(keys, (std::set<std::string>{
                    "coordinator.max_concurrent_jobs",
                    "operation_configs.write.strategy",
                    "operation_configs.write.preferred_batch_size",
                    "backends.default.initial_requests_per_second"}));
  // In effect: the write batcher now sends static batches of 20.
  std::string ops;
  for (int i = 1; i <= 30; ++i)
    ops += (i > 1 ? "," : "") + std::to_string(i);
  auto job = call("POST", "/v1/jobs",
                  R"({"type":"write","operations":[)" + ops + "]}", auth);
  ASSERT_EQ(job.status, 202) << job.body;
  auto id = parse(job).at("job_id").to_number<std::uint64_t>();
  ASSERT_TRUE(rt_->wait(id, 10s).has_value());
  {
    std::lock_guard<std::mutex> guard{mtx_};
    EXPECT_EQ(batch_sizes_, (std::vector<std::size_t>{20, 10}));
  }
  auto after = parse(call("GET", "/v1/config", {}, auth));
  EXPECT_EQ(
    after.at("operation_configs").at("write").at("strategy").as_string(),
    "static");
  EXPECT_EQ(after.at("coordinator").at("max_concurrent_jobs").to_number<int>(),
            3);
  EXPECT_EQ(rt_->config().backends.at("default").initial_requests_per_second,
            9);
  // Nothing changed: no changes.
  auto again = call("PATCH", "/v1/config", body, auth);
  ASSERT_EQ(again.status, 200);
  EXPECT_TRUE(parse(again).at("changes").as_array().empty());
  // Not live: refused whole, nothing applied.
  auto url = call("PATCH", "/v1/config",
                  R"({"coordinator": {"max_concurrent_jobs": 5},
                      "backends": {"default": {"max_in_flight": 9}}})",
                  auth);
  EXPECT_EQ(url.status, 409);
  EXPECT_NE(error_of(url).find("backends.default.max_in_flight need a restart"),
            std::string::npos)
    << error_of(url);
  EXPECT_EQ(rt_->config().coordinator.max_concurrent_jobs, 3u);
  // Validated like the files, with the patch's line and column.
  for (auto [bad, problem] :
       {std::pair{R"({"coordinator": {"max_concurrent_jobs": 0}})",
                  "PATCH /v1/config:1:41: error: "
                  "coordinator.max_concurrent_jobs"},
        std::pair{
          R"({"operation_configs": {"write": {"strategy": "fastest"}}})",
          "PATCH /v1/config:1:46: error: "
          "operation_configs.write.strategy"},
        std::pair{R"({"coordinater": {}})", "did you mean 'coordinator'"},
        std::pair{R"({"coordinator": )", "PATCH /v1/config:1:"}}) {
    auto e = call("PATCH", "/v1/config", bad, auth);
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_NE(error_of(e).find(problem), std::string::npos)
      << bad << ": " << error_of(e);
  }
  EXPECT_EQ(call("DELETE", "/v1/config", {}, auth).status, 405);
}

TEST_F(api_test, the_dashboard_page_and_its_data) {
  start();
  auto page = call("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<canvas id=\"chart-goodput\">"), std::string::npos);
  // Self-contained: no external scripts, styles or fonts.
  EXPECT_EQ(page.body.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.body.find("href=\"http"), std::string::npos);
  auto board = parse(call("GET", "/v1/dashboard"));
  EXPECT_TRUE(board.at("jobs").is_array());
  EXPECT_TRUE(board.at("batching_metrics")
                .at("write")
                .at("latency_histogram")
                .at("cumulative")
                .is_array());
}

// -- untrusted input ----------------------------------------------------------

namespace {

// Characters that matter to JSON, and some that do not.
const std::string json_noise = "{}[]:,\"\\ \n\t0123456789-.eE+truefalsn/u";

/// `text` with a few random edits of JSON's characters.
std::string damaged(const std::string& text) {
  return testing_support::damaged(text, json_noise, *rc::gen::inRange(1, 6));
}

} // namespace

TEST_F(api_test, damaged_job_bodies_are_refused_or_accepted_whole) {
  // Job bodies (JSON and JSON lines) damaged at random and random bytes,
  // straight into the API: every answer is 202 (a job that exists, with
  // the operations the body holds) or a 4xx whose body names the problem
  // as JSON; nothing crashes, and nothing is half accepted.
  start({}, 50);
  const std::string valid
    = R"({"type": "write", "priority": "high", "deadline_seconds": 30,)"
      R"( "operations": [{"id": 7, "payload": {"a": [1, 2.5, "x"]}},)"
      R"( "plain", null, {"payload": true}]})";
  const std::string valid_lines
    = "{\"id\": 1, \"payload\": {\"n\": 1}}\n\"two\"\n[3]\n\n{\"n\": 4}\n";
  auto result = rc::check("damaged job bodies", [&] {
    bool lines = *rc::gen::arbitrary<bool>();
    auto kind = *rc::gen::inRange(0, 3);
    std::string body = kind == 0 ? *rc::gen::arbitrary<std::string>()
                                 : damaged(lines ? valid_lines : valid);
    http_request req;
    req.method = "POST";
    req.target = lines ? "/v1/jobs?type=write" : "/v1/jobs";
    req.headers["content-type"]
      = lines ? "application/x-ndjson" : "application/json";
    req.body = body;
    auto reply = api_->handle(req);
    RC_ASSERT(reply.status == 202u || reply.status == 400u
              || reply.status == 413u);
    auto v = json::parse(reply.body); // always a JSON answer
    if (reply.status == 202u) {
      auto id = v.at("job_id").to_number<std::uint64_t>();
      auto status = rt_->status(id);
      RC_ASSERT(status.has_value());
      RC_ASSERT(status->total == v.at("operations").to_number<std::uint64_t>());
    } else {
      RC_ASSERT(!std::string{v.at("error").as_string().c_str()}.empty());
    }
  });
  EXPECT_TRUE(result);
}

TEST_F(api_test, garbage_on_the_socket_never_takes_the_server_down) {
  // What a scanner or a broken client sends: random bytes, damaged request
  // lines and headers, absurd lengths. The server answers or closes, and
  // still serves the next client.
  start();
  const std::string request = "POST /v1/jobs HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 2\r\n\r\n{}";
  auto result = rc::check("garbage requests", [&] {
    std::string bytes = *rc::gen::arbitrary<bool>()
                          ? *rc::gen::arbitrary<std::string>()
                          : damaged(request);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(server_->port());
    RC_ASSERT(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
              == 0);
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR); // nothing more is coming
    char buf[4096];
    while (::recv(fd, buf, sizeof(buf), 0) > 0) {
      // the answer, if any, is read and dropped
    }
    ::close(fd);
  });
  EXPECT_TRUE(result);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

// -- reading requests (parse_http_requests: the server's parser and loop) ----

TEST(http_reading, pipelined_requests_come_out_in_order_until_close) {
  std::string bytes = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                      "POST /v1/jobs?x=1 HTTP/1.1\r\nContent-Length: 2\r\n"
                      "X-Mixed-Case: v\r\n\r\n{}"
                      "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"
                      "GET /never HTTP/1.1\r\n\r\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, bytes.size()}) {
    auto read = parse_http_requests(bytes, 1000, chunk);
    ASSERT_EQ(read.requests.size(), 3u) << "chunk " << chunk;
    EXPECT_FALSE(read.refusal);
    EXPECT_EQ(read.requests[0].path(), "/healthz");
    EXPECT_EQ(read.requests[1].method, "POST");
    EXPECT_EQ(read.requests[1].path(), "/v1/jobs");
    EXPECT_EQ(read.requests[1].body, "{}");
    EXPECT_EQ(read.requests[1].header("x-mixed-case"), "v");
    EXPECT_EQ(read.requests[2].target, "/metrics");
  }
}

TEST(http_reading, chunked_bodies_are_joined) {
  auto read = parse_http_requests("POST /v1/jobs HTTP/1.1\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n"
                                  "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n",
                                  1000, 5);
  ASSERT_EQ(read.requests.size(), 1u);
  EXPECT_EQ(read.requests[0].body, "{\"a\":1}");
}

TEST(http_reading, bad_bytes_end_in_400_and_large_bodies_in_413) {
  auto garbage = parse_http_requests("HELLO\r\n\r\n", 1000, 3);
  EXPECT_TRUE(garbage.requests.empty());
  ASSERT_TRUE(garbage.refusal);
  EXPECT_EQ(garbage.refusal->status, 400u);
  EXPECT_NE(garbage.refusal->body.find("malformed HTTP request"),
            std::string::npos);
  auto large = parse_http_requests(
    "POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234567890123456789", 10,
    64);
  ASSERT_TRUE(large.refusal);
  EXPECT_EQ(large.refusal->status, 413u);
  // A request cut short by the client's close is malformed; nothing at all
  // is a clean close.
  auto cut = parse_http_requests("GET / HTTP/1.1\r\nHost:", 1000, 4);
  ASSERT_TRUE(cut.refusal);
  EXPECT_EQ(cut.refusal->status, 400u);
  auto nothing = parse_http_requests("", 1000, 4);
  EXPECT_TRUE(nothing.requests.empty());
  EXPECT_FALSE(nothing.refusal);
}
