#pragma once

// Boost.JSON values as text for people and files: indented, keys in their
// insertion order, and numbers in their shortest exact form ("0.05", not
// Boost's "5E-2").

#include <string>

#include <boost/json/value.hpp>

namespace batching::cli {

std::string to_json_text(const boost::json::value& value, int indent = 2);

} // namespace batching::cli
