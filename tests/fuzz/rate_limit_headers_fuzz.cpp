// libFuzzer target: the rate-limit header parser on any header lines
// ("Name: value", one per line, as an HTTP answer carries them). The advice
// it returns keeps its invariants whatever the input. Corpus:
// corpus/rate_limit_headers (tests/fuzz/README.md).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/policy/rate_limit_headers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<batching::header_field> fields;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    fields.push_back({std::string{line.substr(0, colon)}, std::string{value}});
  }
  auto r = batching::read_rate_limit_headers(fields, 1'700'000'000);
  const auto& a = r.advice;
  // Unknown is -1; anything known is a finite, non-negative number, and
  // what is left never exceeds the quota.
  for (double v : {a.quota, a.window_s, a.remaining, a.reset_s})
    if (!(v >= 0 || v == -1))
      __builtin_trap();
  if (a.quota >= 0 && a.remaining > a.quota)
    __builtin_trap();
  return 0;
}
