#pragma once

// The dashboard and job status as Boost.JSON values, with the seed's keys
// (coordinator_status, batching_metrics, performance_metrics, resources).

#include <boost/json/value.hpp>

#include "messages/messages.hpp"

namespace batching {

boost::json::value to_json(const dashboard& d);

boost::json::value to_json(const job_status& s);

} // namespace batching
