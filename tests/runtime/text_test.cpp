#include <gtest/gtest.h>

#include "runtime/policy/text.hpp"

using namespace batching;

TEST(text, format_number_is_the_shortest_exact_form) {
  EXPECT_EQ(format_number(500), "500");
  EXPECT_EQ(format_number(0.05), "0.05");
  EXPECT_EQ(format_number(1'000'000), "1000000");
  EXPECT_EQ(format_number(-3), "-3");
  EXPECT_EQ(format_number(1.0 / 3), "0.3333333333333333");
}

TEST(text, format_fixed_rounds_to_its_decimals) {
  EXPECT_EQ(format_fixed(1.04242, 2), "1.04");
  EXPECT_EQ(format_fixed(2.631578, 2), "2.63");
  EXPECT_EQ(format_fixed(3951.6, 0), "3952");
  EXPECT_EQ(format_fixed(0, 1), "0.0");
  EXPECT_EQ(format_fixed(-0.25, 1), "-0.2"); // round half to even
}

TEST(text, trim_drops_spaces_and_tabs_at_both_ends) {
  EXPECT_EQ(trim(" \t 10, remaining=2\t "), "10, remaining=2");
  EXPECT_EQ(trim("   "), "");
}
