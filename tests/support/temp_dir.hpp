#pragma once

// A fresh directory per test (named after it), removed after it.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace batching::testing_support {

class temp_dir_test : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path()
           / ("batching-" + std::string{info->test_suite_name()} + "-"
              + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string file(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

} // namespace batching::testing_support
