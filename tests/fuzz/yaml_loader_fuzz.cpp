// libFuzzer target: the YAML configuration loader on any bytes. Every input
// must end as a configuration or as diagnostics, without a crash, a hang, a
// leak or a sanitizer report. Corpus: corpus/yaml_loader
// (tests/fuzz/README.md).

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = batching::config::load({{"fuzz.yaml", text, false}});
  for (const auto& e : result.errors)
    if (e.message.empty())
      __builtin_trap(); // every problem is named
  return 0;
}
