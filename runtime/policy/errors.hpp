#pragma once

// The runtime's error codes. Pure, so the host-facing API can report them
// without CAF; messages/error.hpp turns them into a CAF error category.

#include <array>
#include <cstdint>
#include <string_view>

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
  journal_unavailable,    // the journal cannot be written: nothing accepted
};

template <>
struct enum_names<error_code> {
  static constexpr std::array<std::string_view, 16> names{
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
    "journal_unavailable",
  };
};

} // namespace batching
