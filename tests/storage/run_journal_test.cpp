#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/storage/run_journal.hpp"

#include "tests/support/temp_dir.hpp"

using namespace batching;

using journal_dir = testing_support::temp_dir_test;

TEST(input_fingerprint, tells_contents_apart) {
  EXPECT_EQ(fingerprint_of("").hash, 14695981039346656037ull); // FNV offset
  EXPECT_EQ(fingerprint_of("a").hash, 0xaf63dc4c8601ec8cull);  // FNV-1a of "a"
  EXPECT_EQ(fingerprint_of("{\"x\":1}\n"), fingerprint_of("{\"x\":1}\n"));
  EXPECT_NE(fingerprint_of("{\"x\":1}\n"), fingerprint_of("{\"x\":2}\n"));
  EXPECT_EQ(fingerprint_of("abc").size, 3u);
}

TEST_F(journal_dir, confirmations_survive_reopening) {
  auto path = file("run.journal");
  input_fingerprint in{120, 42};
  {
    run_journal j{path, run_journal::sync_mode::full};
    EXPECT_FALSE(j.input().has_value());
    EXPECT_EQ(j.total(), 0u);
    j.start(in, 77, 12);
    j.confirm({1, 2, 3});
    j.confirm({3, 7}); // a resend confirmed again counts once
  }
  run_journal j{path, run_journal::sync_mode::normal};
  ASSERT_TRUE(j.input().has_value());
  EXPECT_EQ(*j.input(), in);
  EXPECT_EQ(j.total(), 12u);
  EXPECT_EQ(j.destination(), 77u);
  EXPECT_EQ(j.confirmed(), (std::unordered_set<std::uint64_t>{1, 2, 3, 7}));
  // Starting over (another input, or --fresh) forgets them.
  j.start({99, 1}, 78, 5);
  EXPECT_TRUE(j.confirmed().empty());
  EXPECT_EQ(j.total(), 5u);
}

TEST_F(journal_dir, hash_values_above_int64_round_trip) {
  auto path = file("big.journal");
  input_fingerprint in{1, 0xfedcba9876543210ull};
  {
    run_journal j{path, run_journal::sync_mode::full};
    j.start(in, 1, 1);
  }
  run_journal j{path, run_journal::sync_mode::full};
  EXPECT_EQ(*j.input(), in);
}

TEST_F(journal_dir, confirms_from_many_threads) {
  run_journal j{file("threads.journal"), run_journal::sync_mode::normal};
  j.start({1, 1}, 1, 4000);
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < 4; ++t)
    threads.emplace_back([&j, t] {
      for (std::uint64_t b = 0; b < 10; ++b) {
        std::vector<std::uint64_t> ids;
        for (std::uint64_t i = 0; i < 100; ++i)
          ids.push_back(t * 1000 + b * 100 + i);
        j.confirm(ids);
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(j.confirmed().size(), 4000u);
}

TEST_F(journal_dir, a_corrupt_file_is_a_clear_error) {
  auto path = file("corrupt.journal");
  {
    std::ofstream out{path};
    out << std::string(4096, 'x');
  }
  try {
    run_journal j{path, run_journal::sync_mode::full};
    FAIL() << "opened a corrupt journal";
  } catch (const journal_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("not a database"), std::string::npos) << what;
  }
}

TEST_F(journal_dir, a_directory_in_its_place_is_a_clear_error) {
  auto path = file("taken");
  std::filesystem::create_directories(path);
  EXPECT_THROW((run_journal{path, run_journal::sync_mode::full}),
               journal_error);
}

TEST_F(journal_dir, a_missing_directory_is_a_clear_error) {
  try {
    run_journal j{file("no/such/dir/x.journal"), run_journal::sync_mode::full};
    FAIL() << "opened a journal in a missing directory";
  } catch (const journal_error& e) {
    EXPECT_NE(std::string{e.what()}.find("cannot open"), std::string::npos)
      << e.what();
  }
}

TEST_F(journal_dir, one_run_at_a_time) {
  auto path = file("locked.journal");
  run_journal first{path, run_journal::sync_mode::full};
  first.start({1, 1}, 1, 1);
  try {
    run_journal second{path, run_journal::sync_mode::full};
    FAIL() << "a second run opened a journal in use";
  } catch (const journal_error& e) {
    EXPECT_NE(std::string{e.what()}.find("another `batching run`"),
              std::string::npos)
      << e.what();
  }
}
