#include "runtime/http/job_json.hpp"

#include <boost/json.hpp>

namespace batching {

namespace json = boost::json;

std::optional<json::value> parse_json_text(std::string_view text,
                                           std::string& why,
                                           const std::string& where) {
  json::stream_parser p;
  boost::system::error_code ec;
  auto n = p.write_some(text.data(), text.size(), ec);
  if (!ec)
    p.finish(ec);
  if (!ec && n != text.size()) {
    // Only whitespace may follow the value.
    for (auto c : text.substr(n))
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        ec = json::error::extra_data;
        break;
      }
  }
  if (ec) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < n && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    why = "malformed JSON "
          + (where.empty() ? "at line " + std::to_string(line) : "in " + where)
          + ", column " + std::to_string(column) + ": " + ec.message();
    return std::nullopt;
  }
  return p.release();
}

bool operation_from_json(const json::value& v, const std::string& where,
                         const std::function<std::uint64_t()>& next_id,
                         operation& out, std::string& why) {
  if (v.is_object() && v.as_object().contains("payload")) {
    const auto& obj = v.as_object();
    for (const auto& kv : obj)
      if (kv.key() != "payload" && kv.key() != "id") {
        why = where + ": unknown field '" + std::string{kv.key()}
              + "' (expected id and payload)";
        return false;
      }
    if (auto* id = obj.if_contains("id")) {
      if (id->is_uint64())
        out.id = id->as_uint64();
      else if (id->is_int64() && id->as_int64() >= 0)
        out.id = static_cast<std::uint64_t>(id->as_int64());
      else {
        why = where + ".id: expected a non-negative whole number";
        return false;
      }
    } else {
      out.id = next_id();
    }
    out.payload = json::serialize(obj.at("payload"));
    return true;
  }
  out.id = next_id();
  out.payload = json::serialize(v);
  return true;
}

} // namespace batching
