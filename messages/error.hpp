#pragma once

// The runtime's error codes, as a CAF error category ("batching"). Handlers
// return them inside `caf::result<T>` (`return error_code::queue_full;` works
// through ADL on make_error); register_types() installs the renderer, so
// `sys.render(err)` reads e.g. "batching_error(queue_full: 12 > 10 queued)".

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "runtime/policy/enum_names.hpp"

namespace batching {

enum class error_code : std::uint8_t {
  none = 0,
  unknown_operation_type, // no batcher for the job's type
  empty_job,              // a job without operations
  queue_full,             // admission would exceed max_queued_operations
  unknown_job,            // no job with that id
  job_finished,           // the job already reached a final state
  executor_failed,        // the executor threw or answered an error
  executor_timeout,       // the executor did not answer in time
  breaker_open,           // the backend's circuit breaker is open
  invalid_configuration,  // a configuration value was rejected
  shutting_down,          // the runtime is stopping
  no_model,               // the optimizer has no trained model yet
  unknown_ab_test,        // no A/B test with that id
  bad_request,            // a malformed request
  deadline_exceeded,      // the job's deadline passed
};

template <>
struct enum_names<error_code> {
  static constexpr std::array<std::string_view, 15> names{
    "none",
    "unknown_operation_type",
    "empty_job",
    "queue_full",
    "unknown_job",
    "job_finished",
    "executor_failed",
    "executor_timeout",
    "breaker_open",
    "invalid_configuration",
    "shutting_down",
    "no_model",
    "unknown_ab_test",
    "bad_request",
    "deadline_exceeded",
  };
};

/// The category atom of every batching error.
constexpr caf::atom_value error_category = caf::atom("batching");

/// Makes a CAF error of our category; `context` says what went wrong.
caf::error make_error(error_code code, std::string context = {});

/// Returns the error code of `err`, or `error_code::none` when `err` is not
/// of our category.
error_code code_of(const caf::error& err);

/// Renders an error of our category (the renderer registered with CAF).
std::string render_error(std::uint8_t code, const caf::message& context);

} // namespace batching
