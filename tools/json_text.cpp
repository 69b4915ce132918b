#include "tools/json_text.hpp"

#include <boost/json.hpp>

#include "runtime/policy/text.hpp"

namespace batching::cli {

namespace {

void write(const boost::json::value& v, int indent, int depth,
           std::string& out) {
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<std::size_t>(indent * level), ' ');
  };
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      if (obj.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& kv : obj) {
        if (!first)
          out += ',';
        first = false;
        newline(depth + 1);
        out += boost::json::serialize(boost::json::string{kv.key()});
        out += ": ";
        write(kv.value(), indent, depth + 1, out);
      }
      newline(depth);
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      const auto& arr = v.get_array();
      if (arr.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (std::size_t i = 0; i < arr.size(); ++i) {
        if (i > 0)
          out += ',';
        newline(depth + 1);
        write(arr[i], indent, depth + 1, out);
      }
      newline(depth);
      out += ']';
      return;
    }
    case boost::json::kind::double_:
      out += format_number(v.get_double());
      return;
    default: out += boost::json::serialize(v);
  }
}

} // namespace

std::string to_json_text(const boost::json::value& value, int indent) {
  std::string out;
  write(value, indent, 0, out);
  out += '\n';
  return out;
}

} // namespace batching::cli
