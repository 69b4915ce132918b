// libFuzzer target: the bytes a client sends to `serve`, read as the server
// reads a connection (parse_http_requests: the same Beast parser, limits
// and loop). The first byte sets how many bytes arrive at a time, the
// second the body limit (small, to reach 413), the rest is the connection.
// Invariants: a refusal is 400 or 413 with a JSON error; a request has a
// method, lower-case header names and a body within the limit; and the
// requests, and whether the connection ends refused, do not depend on how
// the bytes arrived (in small pieces, or all at once). Corpus:
// corpus/http_request (tests/fuzz/README.md).

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/http/http_server.hpp"

namespace {

bool same(const batching::http_request& a, const batching::http_request& b) {
  return a.method == b.method && a.target == b.target && a.headers == b.headers
         && a.body == b.body;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 2)
    return 0;
  std::size_t chunk = 1 + data[0] % 64;
  std::uint64_t max_body = data[1] % 4 == 0 ? 16 : 1'000'000;
  std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  auto piecewise = batching::parse_http_requests(bytes, max_body, chunk);
  auto whole = batching::parse_http_requests(bytes, max_body, bytes.size());
  if (piecewise.requests.size() != whole.requests.size()
      || piecewise.refusal.has_value() != whole.refusal.has_value())
    __builtin_trap();
  for (std::size_t i = 0; i < whole.requests.size(); ++i) {
    const auto& req = whole.requests[i];
    if (!same(req, piecewise.requests[i]) || req.method.empty()
        || req.body.size() > max_body)
      __builtin_trap();
    for (const auto& [name, value] : req.headers)
      for (char c : name)
        if (std::isupper(static_cast<unsigned char>(c)))
          __builtin_trap();
    (void)req.path();
  }
  // Which refusal may depend on the pieces: a chunked body over the limit
  // that is malformed further on is 413 read slowly, 400 read at once.
  for (const auto* r : {&whole.refusal, &piecewise.refusal})
    if (*r
        && (((*r)->status != 400 && (*r)->status != 413)
            || (*r)->body.rfind("{\"error\":\"", 0) != 0))
      __builtin_trap();
  return 0;
}
