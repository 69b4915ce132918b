#pragma once

// Everything a host needs to embed the batching runtime (installed as
// <batching/batching.hpp>; docs/embedding.md):
//   the runtime (configuration, executors, jobs, dashboard, live changes,
//   A/B tests, load tests), the configuration loader, the HTTP executor,
//   and the version.
// CAF stays inside the library; hosts that want the actors themselves use
// the source tree's runtime/system/runtime_actors.hpp.

#include "config/live.hpp"
#include "config/loader.hpp"
#include "runtime/http/http_executor.hpp"
#include "runtime/policy/load_test.hpp"
#include "runtime/policy/version.hpp"
#include "runtime/system/runtime.hpp"
