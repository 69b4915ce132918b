#pragma once

// The JSON API of `batching serve` (docs/http-api.md) over a running
// runtime:
//   POST   /v1/jobs           submit a job (JSON object, or JSON lines)
//   GET    /v1/jobs           the most recent jobs' status
//   GET    /v1/jobs/{id}      one job's status
//   DELETE /v1/jobs/{id}      cancel a job
//   GET    /v1/dashboard      the dashboard (+ recent jobs)
//   POST   /v1/predict        the optimizer's batch size for features/target
//   GET    /v1/insights       what the optimizer has learned
//   GET    /v1/recommendations  resource recommendations (scaling.* rules)
//   GET    /v1/trends?window_minutes=N  resource trends over N minutes
//   GET    /metrics           Prometheus text (docs/metrics.md)
//   GET    /healthz           liveness
//   GET    /                  the live dashboard page
// A job is accepted whole or not at all; every error is a 4xx/5xx with
// {"error": "..."} naming the problem. With a token configured, POST and
// DELETE require "Authorization: Bearer <token>" (compared in constant
// time), else 401.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "runtime/http/http_server.hpp"
#include "runtime/http/job_json.hpp"
#include "runtime/system/runtime.hpp"

namespace batching {

class http_api {
public:
  struct options {
    std::string token;
    std::uint64_t max_operations_per_job = 100'000;
    /// Jobs GET /v1/jobs and the dashboard list.
    std::size_t recent_jobs = 50;
    /// The id given to the first operation posted without one (the next
    /// get the following ids). serve starts it at its start time in
    /// microseconds since the epoch, so a restarted serve never gives an id
    /// again (unless it gave more than a million a second).
    std::uint64_t first_operation_id = 1;
  };

  http_api(runtime& rt, options opts);

  /// Thread-safe; never throws.
  http_reply handle(const http_request& req);

private:
  http_reply submit(const http_request& req);
  http_reply job(const http_request& req, std::uint64_t id);
  http_reply list_jobs();
  boost::json::array recent_jobs();
  http_reply dashboard();
  http_reply recommendations();
  http_reply predict(const http_request& req);
  http_reply insights();
  http_reply trends(const http_request& req);
  http_reply start_ab_test(const http_request& req);
  http_reply patch_config(const http_request& req);
  http_reply ab_test_result_of(const std::string& id);
  bool authorized(const http_request& req) const;
  void remember(std::uint64_t job_id);

  runtime& rt_;
  options opts_;
  std::atomic<std::uint64_t> next_operation_id_;
  std::mutex mtx_;
  std::deque<std::uint64_t> recent_;
};

/// The dashboard page (self-contained HTML, CSS and JS).
const std::string& dashboard_page();

} // namespace batching
