// The smallest useful host: configure one operation type, hand the runtime
// an executor for its backend (here an in-process stand-in that accepts
// everything; a real host calls its API there), submit a job, wait for it,
// stop. Exit status 0 when every operation succeeded.

#include <batching/batching.hpp>
#include <chrono>
#include <iostream>

int main() {
  using namespace std::chrono_literals;
  batching::runtime_config cfg; // the defaults: read and write, adaptive
  cfg.backends["default"].initial_requests_per_second = 50;
  batching::runtime::options opts;
  opts.sample_resources = false;
  batching::runtime rt{cfg, opts};
  rt.set_inline_executor("default", [](const batching::batch& b) {
    batching::batch_outcome out;
    out.batch_id = b.batch_id; // every item accepted
    return out;
  });
  rt.start();
  std::vector<batching::operation> ops;
  for (std::uint64_t i = 1; i <= 1000; ++i)
    ops.push_back({i, "{\"claim\": " + std::to_string(i) + "}"});
  auto job = rt.submit_job("write", std::move(ops));
  if (!job) {
    std::cerr << "rejected: " << job.message << '\n';
    return 1;
  }
  auto done = rt.wait(job.job_id, 60s);
  rt.stop();
  if (!done || done->succeeded != 1000) {
    std::cerr << "not finished: "
              << (done ? std::to_string(done->succeeded) : "unknown")
              << " of 1000 succeeded\n";
    return 1;
  }
  std::cout << "batching " << batching::version() << ": 1000 of 1000 "
            << "operations succeeded\n";
  return 0;
}
