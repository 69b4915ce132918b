#include <fstream>

#include <gtest/gtest.h>

#include "runtime/storage/job_journal.hpp"
#include "runtime/storage/run_journal.hpp"

#include "tests/support/temp_dir.hpp"

using namespace batching;

namespace {

using job_journal_dir = testing_support::temp_dir_test;

journaled_job job(std::uint64_t id, std::uint64_t n,
                  std::string type = "write") {
  journaled_job j;
  j.id = id;
  j.op_type = std::move(type);
  j.prio = priority::high;
  j.submitted_ms = 1'700'000'000'000;
  j.deadline_ms = 1'700'000'060'000;
  j.total = n;
  for (std::uint64_t i = 0; i < n; ++i)
    j.operations.push_back(
      {1000 * id + i, "{\"n\":" + std::to_string(i) + "}"});
  return j;
}

journaled_job ended(std::uint64_t id, job_state state, std::uint64_t ok,
                    std::uint64_t failed) {
  journaled_job j;
  j.id = id;
  j.finished = true;
  j.state = state;
  j.succeeded = ok;
  j.failed = failed;
  j.last_error = failed ? "HTTP 400" : "";
  j.finished_ms = 1'700'000'010'000;
  return j;
}

} // namespace

TEST_F(job_journal_dir, a_new_journal_holds_nothing) {
  job_journal j{file("jobs.journal"), journal_sync::full};
  auto c = j.load();
  EXPECT_TRUE(c.jobs.empty());
  EXPECT_EQ(c.next_job_id, 1u);
  EXPECT_EQ(c.unfinished_operations, 0u);
}

TEST_F(job_journal_dir, jobs_and_outcomes_survive_reopening) {
  auto path = file("jobs.journal");
  {
    job_journal j{path, journal_sync::full};
    journal_writes w;
    w.accepted = {job(1, 5), job(2, 3, "read")};
    j.commit(w);
    journal_writes outcomes;
    // Job 1: 0-1 succeeded (one run), 3 failed; 2 and 4 have none.
    outcomes.outcomes = {{1, 1, operation_state::succeeded},
                         {1, 0, operation_state::succeeded},
                         {1, 3, operation_state::failed}};
    j.commit(outcomes);
  }
  job_journal j{path, journal_sync::normal};
  auto c = j.load();
  ASSERT_EQ(c.jobs.size(), 2u);
  EXPECT_EQ(c.next_job_id, 3u);
  EXPECT_EQ(c.unfinished_operations, 2u + 3u);
  const auto& a = c.jobs[0];
  EXPECT_EQ(a.id, 1u);
  EXPECT_EQ(a.op_type, "write");
  EXPECT_EQ(a.prio, priority::high);
  EXPECT_EQ(a.deadline_ms, 1'700'000'060'000);
  EXPECT_FALSE(a.finished);
  ASSERT_EQ(a.operations.size(), 5u);
  EXPECT_EQ(a.operations[4], (operation{1004, "{\"n\":4}"}));
  EXPECT_EQ(a.states, (std::vector<operation_state>{
                        operation_state::succeeded, operation_state::succeeded,
                        operation_state::queued, operation_state::failed,
                        operation_state::queued}));
  EXPECT_EQ(c.jobs[1].op_type, "read");
  EXPECT_EQ(c.jobs[1].states,
            std::vector<operation_state>(3, operation_state::queued));
}

TEST_F(job_journal_dir, an_ended_job_keeps_its_end_and_drops_its_operations) {
  auto path = file("jobs.journal");
  {
    job_journal j{path, journal_sync::full};
    journal_writes w;
    w.accepted = {job(7, 4)};
    w.outcomes
      = {{7, 0, operation_state::succeeded}, {7, 1, operation_state::failed}};
    j.commit(w);
    journal_writes end;
    end.outcomes = {{7, 2, operation_state::succeeded},
                    {7, 3, operation_state::succeeded}};
    end.ended = {ended(7, job_state::failed, 3, 1)};
    j.commit(end);
  }
  job_journal j{path, journal_sync::full};
  auto c = j.load();
  ASSERT_EQ(c.jobs.size(), 1u);
  const auto& e = c.jobs[0];
  EXPECT_TRUE(e.finished);
  EXPECT_EQ(e.state, job_state::failed);
  EXPECT_EQ(e.succeeded, 3u);
  EXPECT_EQ(e.failed, 1u);
  EXPECT_EQ(e.last_error, "HTTP 400");
  EXPECT_EQ(e.total, 4u);
  EXPECT_TRUE(e.operations.empty());
  EXPECT_EQ(c.unfinished_operations, 0u);
  EXPECT_EQ(c.next_job_id, 8u);
}

TEST_F(job_journal_dir, ids_never_repeat_after_jobs_are_forgotten) {
  auto path = file("jobs.journal");
  {
    job_journal j{path, journal_sync::full};
    journal_writes w;
    w.accepted = {job(41, 1)};
    w.ended = {ended(41, job_state::completed, 1, 0)};
    j.commit(w);
    EXPECT_EQ(j.forget_finished_before(1'700'000'009'999), 0u); // too young
    EXPECT_EQ(j.forget_finished_before(1'700'000'010'001), 1u);
  }
  job_journal j{path, journal_sync::full};
  auto c = j.load();
  EXPECT_TRUE(c.jobs.empty());
  EXPECT_EQ(c.next_job_id, 42u);
}

TEST_F(job_journal_dir, a_failed_commit_writes_nothing) {
  auto path = file("jobs.journal");
  job_journal j{path, journal_sync::full};
  journal_writes w;
  w.accepted = {job(1, 2)};
  j.commit(w);
  journal_writes again; // the same id: the second insert fails
  again.accepted = {job(2, 2), job(1, 2)};
  EXPECT_THROW(j.commit(again), journal_error);
  auto c = j.load();
  ASSERT_EQ(c.jobs.size(), 1u);
  EXPECT_EQ(c.jobs[0].id, 1u);
  EXPECT_EQ(c.next_job_id, 2u);
}

TEST_F(job_journal_dir, bad_files_are_named_errors) {
  auto garbage = file("garbage.journal");
  std::ofstream{garbage} << "not a database, just text that is long enough "
                            "to be read as a header of one\n";
  try {
    job_journal j{garbage, journal_sync::full};
    FAIL() << "a text file opened as a journal";
  } catch (const journal_error& e) {
    EXPECT_NE(std::string{e.what()}.find(garbage), std::string::npos);
    EXPECT_NE(std::string{e.what()}.find("not a database"), std::string::npos);
  }
  auto run = file("ops.jsonl.journal");
  { run_journal r{run, journal_sync::full}; }
  try {
    job_journal j{run, journal_sync::full};
    FAIL() << "a run journal opened as a job journal";
  } catch (const journal_error& e) {
    EXPECT_NE(std::string{e.what()}.find("`batching run` journal"),
              std::string::npos);
  }
  EXPECT_THROW((job_journal{file("no/such/dir/j"), journal_sync::full}),
               journal_error);
}

TEST_F(job_journal_dir, one_process_at_a_time) {
  auto path = file("jobs.journal");
  job_journal first{path, journal_sync::full};
  first.commit({{job(1, 1)}, {}, {}});
  try {
    job_journal second{path, journal_sync::full};
    second.load();
    FAIL() << "a second journal on a locked file";
  } catch (const journal_error& e) {
    EXPECT_NE(std::string{e.what()}.find("another batching process"),
              std::string::npos);
  }
}
