// A host that uses CAF itself: it embeds the runtime as main.cpp does, then
// talks to the coordinator actor directly (typed messages, as the runtime's
// own shell does): submit a job, wait for it, read the dashboard. Built
// only when the package's `actors` component is installed.

#include <batching/batching.hpp>
#include <batching/runtime/system/runtime_actors.hpp>
#include <chrono>
#include <iostream>

#include <caf/all.hpp>

int main() {
  using namespace std::chrono_literals;
  batching::runtime_config cfg;
  cfg.backends["default"].initial_requests_per_second = 50;
  batching::runtime::options opts;
  opts.sample_resources = false;
  batching::runtime rt{cfg, opts};
  rt.set_inline_executor("default", [](const batching::batch& b) {
    batching::batch_outcome out;
    out.batch_id = b.batch_id;
    return out;
  });
  rt.start();
  int status = 1;
  {
    caf::scoped_actor self{batching::system_of(rt)};
    auto coordinator = batching::actors_of(rt).coordinator;
    batching::job_submission job;
    job.op_type = "write";
    for (std::uint64_t i = 1; i <= 500; ++i)
      job.operations.push_back({i, "{\"n\": " + std::to_string(i) + "}"});
    std::uint64_t id = 0;
    auto fail = [&](const caf::error& err) {
      std::cerr << "coordinator: " << self->system().render(err) << '\n';
    };
    self
      ->request(coordinator, caf::infinite, batching::submit_atom::value,
                std::move(job))
      .receive([&](std::uint64_t job_id) { id = job_id; }, fail);
    if (id != 0)
      self
        ->request(coordinator, std::chrono::seconds(60),
                  batching::wait_atom::value, id)
        .receive(
          [&](const batching::job_status& st) {
            if (st.succeeded == 500)
              status = 0;
          },
          fail);
    std::size_t types = 0;
    self->request(coordinator, caf::infinite, batching::dashboard_atom::value)
      .receive([&](const batching::dashboard& d) { types = d.batching.size(); },
               fail);
    if (status == 0)
      std::cout << "batching " << batching::version() << " via CAF: job " << id
                << ", 500 of 500 operations succeeded, " << types
                << " batchers on the dashboard\n";
  }
  rt.stop();
  return status;
}
