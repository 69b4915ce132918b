#pragma once

// The dashboard, job status and A/B results as Boost.JSON values, with the
// seed's keys (coordinator_status, batching_metrics, performance_metrics,
// resources).

#include <boost/json/value.hpp>

#include "messages/messages.hpp"

namespace batching {

boost::json::value to_json(const dashboard& d);

boost::json::value to_json(const job_status& s);

/// An A/B test's result (`batching sim --ab`, GET /v1/ab-tests/{id}).
boost::json::value to_json(const ab_test_result& r);

} // namespace batching
