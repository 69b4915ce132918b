// The embedding API with a journal (docs/durability.md): a stopped runtime's
// unfinished jobs come back in the next one under their ids, with only the
// operations that had no outcome sent again; ended jobs keep their status;
// ids never repeat; a journal that cannot be opened stops start().

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "runtime/system/runtime.hpp"

#include "tests/support/quiet_runtime.hpp"
#include "tests/support/temp_dir.hpp"

using namespace batching;
using testing_support::quiet;
using namespace std::chrono_literals;

namespace {

using journal_runtime = testing_support::temp_dir_test;

runtime_config journal_config_at(const std::string& path) {
  runtime_config cfg;
  cfg.batching.linger_ms = 2;
  cfg.journal.path = path;
  auto& be = cfg.backends["default"];
  be.initial_requests_per_second = 0; // unpaced: the executor is local
  // Reads go to a backend that fails some items again and again.
  auto slow = be;
  slow.max_attempts = 1'000'000;
  slow.retry_base_ms = 5;
  slow.retry_max_ms = 20;
  cfg.backends["slow"] = slow;
  cfg.operation_configs["read"].backend = "slow";
  return cfg;
}

std::vector<operation> ops(std::uint64_t first, std::uint64_t n) {
  std::vector<operation> out;
  for (auto i = first; i < first + n; ++i)
    out.push_back({i, "{\"n\":" + std::to_string(i) + "}"});
  return out;
}

/// Records every operation id a backend accepted; items whose id is in
/// `refused` fail (retryably) instead.
struct recording_backend {
  std::mutex m;
  std::multiset<std::uint64_t> accepted;
  std::set<std::uint64_t> refused;

  sync_callback callback() {
    return [this](const batch& b) {
      batch_outcome out;
      std::lock_guard guard{m};
      for (const auto& op : b.operations) {
        bool no = refused.count(op.id) > 0;
        if (!no)
          accepted.insert(op.id);
        out.items.push_back(
          {op.id, no ? item_status::retryable_failure : item_status::ok, ""});
      }
      return out;
    };
  }
};

} // namespace

TEST_F(journal_runtime, unfinished_jobs_resume_after_a_restart) {
  auto path = file("jobs.journal");
  recording_backend first;
  // Job 2's operations 100..109 stay refused in the first runtime.
  for (std::uint64_t i = 100; i < 110; ++i)
    first.refused.insert(i);
  std::uint64_t done_id = 0, stuck_id = 0;
  {
    runtime rt{journal_config_at(path), quiet()};
    rt.set_executor("default", first.callback(), 2);
    rt.set_executor("slow", first.callback(), 2);
    rt.start();
    EXPECT_EQ(rt.recovered().jobs, 0u);
    auto done = rt.submit_job("write", ops(1, 50));
    ASSERT_TRUE(done) << done.message;
    done_id = done.job_id;
    EXPECT_EQ(rt.wait(done_id, 20s)->state, job_state::completed);
    auto stuck = rt.submit_job("read", ops(60, 50), priority::high);
    ASSERT_TRUE(stuck) << stuck.message;
    stuck_id = stuck.job_id;
    // Until the coordinator has counted everything but the refused
    // operations (there is no event to wait on: the job never finishes).
    for (int i = 0; i < 2000 && rt.status(stuck_id)->succeeded < 40; ++i)
      std::this_thread::sleep_for(5ms);
    ASSERT_EQ(rt.status(stuck_id)->succeeded, 40u);
    EXPECT_FALSE(rt.stop(0s)); // not drained: the job stays in the journal
  }
  recording_backend second;
  runtime rt{journal_config_at(path), quiet()};
  rt.set_executor("default", second.callback(), 2);
  rt.set_executor("slow", second.callback(), 2);
  rt.start();
  EXPECT_EQ(rt.recovered().jobs, 1u);
  EXPECT_EQ(rt.recovered().operations, 10u);
  auto resumed = rt.wait(stuck_id, 20s);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->state, job_state::completed);
  EXPECT_EQ(resumed->succeeded, 50u);
  EXPECT_EQ(resumed->op_type, "read");
  EXPECT_EQ(resumed->prio, priority::high);
  {
    std::lock_guard guard{second.m};
    // Only what had no outcome went to the backend again.
    EXPECT_EQ(second.accepted,
              (std::multiset<std::uint64_t>{100, 101, 102, 103, 104, 105, 106,
                                            107, 108, 109}));
  }
  auto ended = rt.status(done_id);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->state, job_state::completed);
  EXPECT_EQ(ended->succeeded, 50u);
  auto next = rt.submit_job("write", ops(500, 1));
  ASSERT_TRUE(next);
  EXPECT_GT(next.job_id, stuck_id);
  EXPECT_TRUE(rt.stop(10s));
}

TEST_F(journal_runtime, a_drained_stop_leaves_nothing_to_resume) {
  auto path = file("jobs.journal");
  recording_backend b;
  std::uint64_t id = 0;
  {
    runtime rt{journal_config_at(path), quiet()};
    rt.set_executor("default", b.callback(), 2);
    rt.set_executor("slow", b.callback(), 2);
    rt.start();
    id = rt.submit_job("write", ops(1, 300)).job_id;
    EXPECT_TRUE(rt.stop(20s));
  }
  runtime rt{journal_config_at(path), quiet()};
  rt.set_executor("default", b.callback(), 2);
  rt.set_executor("slow", b.callback(), 2);
  rt.start();
  EXPECT_EQ(rt.recovered().jobs, 0u);
  EXPECT_EQ(rt.status(id)->state, job_state::completed);
  std::lock_guard guard{b.m};
  EXPECT_EQ(b.accepted.size(), 300u);
}

TEST_F(journal_runtime, a_journal_that_cannot_be_opened_stops_start) {
  auto path = file("jobs.journal");
  std::ofstream{path} << "this is no SQLite database, but it is long enough "
                         "to have a header that SQLite reads and rejects\n";
  recording_backend b;
  runtime rt{journal_config_at(path), quiet()};
  rt.set_executor("default", b.callback(), 2);
  rt.set_executor("slow", b.callback(), 2);
  try {
    rt.start();
    FAIL() << "started on a damaged journal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find(path), std::string::npos);
  }
  EXPECT_FALSE(rt.running());
}
