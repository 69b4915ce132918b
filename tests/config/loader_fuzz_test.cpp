// The YAML loader takes untrusted input (a user's file, `serve`'s PATCH in
// time): random damage to the shipped configuration and random text never
// crash or hang it, and every problem it reports points into the text.

#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "config/loader.hpp"

#include "tests/config/read_file.hpp"
#include "tests/support/damaged_text.hpp"

using namespace batching;
using batching::testing_support::damaged;
using batching::testing_support::read_file;

namespace {

// Characters that mean something to YAML, and some that mean nothing.
const std::string yaml_noise = ":-?[]{},#&*!|>'\"%@`\t\n 0123456789.eE+~xy";

std::string shipped_config() {
  static const std::string text = read_file(std::string{BATCHING_SOURCE_DIR}
                                            + "/config/batching_config.yaml");
  return text;
}

void check_diagnostics(const std::string& text) {
  auto result = config::load({{"fuzz.yaml", text, false}});
  auto lines = 1 + std::count(text.begin(), text.end(), '\n');
  for (const auto& e : result.errors) {
    RC_ASSERT(!e.message.empty());
    RC_ASSERT(e.file == "fuzz.yaml");
    // A position is 1-based and inside the text (0: the file as a whole).
    RC_ASSERT(e.line >= 0);
    RC_ASSERT(e.line <= lines + 1);
    RC_ASSERT(e.column >= 0);
  }
}

} // namespace

RC_GTEST_PROP(loader_fuzz, damaged_shipped_config_is_refused_or_loaded, ()) {
  auto text = shipped_config();
  RC_PRE(!text.empty());
  check_diagnostics(
    damaged(text, yaml_noise, *rc::gen::inRange(1, 12), 40, true));
}

RC_GTEST_PROP(loader_fuzz, random_text_never_crashes_it, ()) {
  auto text = *rc::gen::container<std::string>(rc::gen::elementOf(yaml_noise));
  check_diagnostics(text);
}

RC_GTEST_PROP(loader_fuzz, random_bytes_never_crash_it, ()) {
  check_diagnostics(*rc::gen::arbitrary<std::string>());
}
