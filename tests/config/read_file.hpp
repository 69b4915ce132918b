#pragma once

// Test helper: a whole file as a string (empty when it cannot be read).

#include <fstream>
#include <sstream>
#include <string>

namespace batching::testing_support {

inline std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

} // namespace batching::testing_support
