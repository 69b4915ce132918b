// The seed's maritime insurance scenario as a host program: policy
// validations (reads, high priority) and claim updates (writes) go through
// the batching runtime to a Notion-like backend that allows 3 requests/s
// (token bucket, burst 3), answers HTTP 429 with Retry-After when overrun,
// takes 40 ms + 0.5 ms per item, and accepts at most 100 items per request.
// The backend here is an in-process stand-in so the example runs anywhere;
// swap the executor for a real HTTP call to use a real API.
//
// Usage: maritime_example [--policies N] [--claims N] [--config-dir DIR]

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "config/loader.hpp"
#include "runtime/system/runtime.hpp"
#include "tools/json_text.hpp"

using namespace batching;
using namespace std::chrono_literals;

namespace {

/// A token-bucket rate limit as an API would enforce it (real time).
class notion_like_backend {
public:
  batch_outcome call(const batch& b) {
    batch_outcome out;
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
      ++requests_;
      if (b.operations.size() > 100) {
        out.status = batch_status::permanent_failure;
        out.message = "validation_error: more than 100 children";
        return out;
      }
      if (tokens_ < 1) {
        ++throttled_;
        out.status = batch_status::throttled;
        out.retry_after = 1s;
        out.message = "rate_limited";
        return out;
      }
      tokens_ -= 1;
    }
    auto latency = 40ms + std::chrono::microseconds{500} * b.operations.size();
    std::this_thread::sleep_for(latency);
    out.latency = latency;
    return out;
  }

  std::uint64_t requests() const { return requests_; }
  std::uint64_t throttled() const { return throttled_; }

private:
  std::mutex mtx_;
  double rate_ = 3, burst_ = 3, tokens_ = 3;
  std::chrono::steady_clock::time_point last_
    = std::chrono::steady_clock::now();
  std::uint64_t requests_ = 0;
  std::uint64_t throttled_ = 0;
};

std::vector<operation> make_ops(const std::string& kind, std::uint64_t n) {
  std::vector<operation> ops;
  for (std::uint64_t i = 0; i < n; ++i) {
    char vessel[32];
    std::snprintf(vessel, sizeof(vessel), "V%06llu",
                  static_cast<unsigned long long>(i));
    ops.push_back(
      {i, R"({"type":")" + kind + R"(","vessel_id":")" + vessel + R"("})"});
  }
  return ops;
}

int usage(const char* problem) {
  std::cerr << "maritime_example: " << problem << "\n"
            << "usage: maritime_example [--policies N] [--claims N] "
               "[--config-dir DIR]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t policies = 500, claims = 300;
  std::string dir = config::default_directory();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage: maritime_example [--policies N] [--claims N] "
                   "[--config-dir DIR]\n"
                   "Runs the seed's maritime insurance scenario through the "
                   "batching runtime against an in-process Notion-like "
                   "backend (3 requests/s).\n";
      return 0;
    }
    if (i + 1 >= argc)
      return usage(("missing value for " + arg).c_str());
    std::string value = argv[++i];
    if (arg == "--policies")
      policies = std::strtoull(value.c_str(), nullptr, 10);
    else if (arg == "--claims")
      claims = std::strtoull(value.c_str(), nullptr, 10);
    else if (arg == "--config-dir")
      dir = value;
    else
      return usage(("unknown option " + arg).c_str());
  }
  std::string errors;
  runtime::options opts;
  opts.threads = 2;
  auto rt = runtime::from_files(config::default_files(dir), "", errors, opts);
  if (!rt) {
    std::cerr << errors;
    return 2;
  }
  notion_like_backend backend;
  rt->set_executor("default", [&](const batch& b) { return backend.call(b); });
  rt->on_alert([](const resource_alert& a) {
    std::cerr << "ALERT [" << to_string(a.level) << "] " << a.message << "\n";
  });
  rt->start();
  auto t0 = std::chrono::steady_clock::now();
  auto validations = rt->submit_job(
    "read", make_ops("policy_validation", policies), priority::high);
  auto updates = rt->submit_job("write", make_ops("claim_update", claims));
  if (!validations || !updates) {
    std::cerr << "submit failed: " << validations.message << updates.message
              << "\n";
    return 1;
  }
  auto v = rt->wait(validations.job_id, 120s);
  auto u = rt->wait(updates.job_id, 120s);
  auto secs
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  auto board = rt->dashboard();
  rt->stop();
  std::cout << "policy validations: " << v->succeeded << "/" << v->total
            << " succeeded (" << to_string(v->state) << ")\n"
            << "claim updates:      " << u->succeeded << "/" << u->total
            << " succeeded (" << to_string(u->state) << ")\n"
            << "elapsed:            " << secs << " s, "
            << (v->succeeded + u->succeeded) / secs << " ops/s\n"
            << "backend requests:   " << backend.requests() << " ("
            << backend.throttled() << " answered 429)\n"
            << "dashboard:\n"
            << cli::to_json_text(board);
  bool ok = v->succeeded == v->total && u->succeeded == u->total;
  return ok ? 0 : 1;
}
