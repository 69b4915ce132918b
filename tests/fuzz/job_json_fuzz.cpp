// libFuzzer target: jobs' operations as `serve` and `run` read them (a JSON
// body with an operations array, or JSON lines). Every input ends as
// operations or as a message naming the problem, without a crash or a
// sanitizer report. Corpus: corpus/job_json (tests/fuzz/README.md).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "runtime/http/job_json.hpp"

namespace {

std::uint64_t next = 1;

void one(const boost::json::value& v, const std::string& where) {
  batching::operation op;
  std::string why;
  if (!batching::operation_from_json(
        v, where, [] { return next++; }, op, why)
      && why.empty())
    __builtin_trap(); // a refusal always says why
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  // As a body: one JSON value whose operations are read one by one.
  if (auto v = batching::parse_json_text(text, why, "")) {
    if (auto* obj = v->if_object())
      if (auto* ops = obj->if_contains("operations"))
        if (auto* arr = ops->if_array())
          for (const auto& item : *arr)
            one(item, "operations[]");
    one(*v, "body");
  } else if (why.empty()) {
    __builtin_trap();
  }
  // As JSON lines: each line on its own.
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    if (auto v = batching::parse_json_text(line, why, "line"))
      one(*v, "line");
    else if (why.empty())
      __builtin_trap();
  }
  return 0;
}
