// libFuzzer target: CAF's deserialization of our protocol, as a cluster
// peer's bytes reach it (binary_deserializer, the middleman's code path).
// An input is `M` and a whole caf::message (type names, then values, as BASP
// carries them), or `T`, a registered type's name (every `batching::` name
// register_types adds, std::vector<T> included), a NUL and that type's bytes.
// Whatever loads must save again (saving checks what loading checks, see
// inspect_fields in messages/messages.hpp: no enum number without a name, a
// priority 200 would index a queue out of bounds; no infinite number, CAF
// 0.17 hangs packing one), and saving it, loading that and saving again
// gives the same bytes. Corpus:
// corpus/caf_message, one value of each type and one message of each
// (written by this target: BATCHING_FUZZ_WRITE_CORPUS=DIR, see
// tests/fuzz/README.md).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>
#include <caf/type_erased_value.hpp>

#include "messages/registration.hpp"

namespace {

struct fuzz_config : caf::actor_system_config {
  fuzz_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    batching::register_types(*this);
  }
};

struct fixture {
  fuzz_config cfg;
  caf::actor_system sys{cfg};
  std::vector<std::string> names; // ours, sorted

  fixture() {
    for (const auto& entry : cfg.value_factories_by_name)
      if (entry.first.find("batching::") != std::string::npos)
        names.push_back(entry.first);
    std::sort(names.begin(), names.end());
  }
};

// Never destroyed: CAF 0.17 crashes when an actor system is destroyed during
// static destruction.
fixture& the() {
  static auto* f = new fixture;
  return *f;
}

template <class T>
std::vector<char> save(caf::actor_system& sys, T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (sink(x))
    __builtin_trap(); // what loaded must save
  return buf;
}

void check_value(caf::actor_system& sys, const std::string& name,
                 caf::type_erased_value& value) {
  (void)value.stringify(); // printing it must not crash either
  std::vector<char> first;
  {
    caf::binary_serializer sink{sys, first};
    if (value.save(sink))
      __builtin_trap();
  }
  auto again = the().cfg.value_factories_by_name.at(name)();
  caf::binary_deserializer source{sys, first};
  if (again->load(source) || source.remaining() != 0)
    __builtin_trap(); // what we saved loads whole
  std::vector<char> second;
  caf::binary_serializer sink{sys, second};
  if (again->save(sink) || second != first)
    __builtin_trap();
}

void check_message(caf::actor_system& sys, caf::message& msg) {
  (void)to_string(msg);
  auto first = save(sys, msg);
  caf::message again;
  caf::binary_deserializer source{sys, first};
  if (source(again) || source.remaining() != 0)
    __builtin_trap();
  if (save(sys, again) != first)
    __builtin_trap();
}

// CAF's own float and double (a message of "@<>+double") load an exponent
// of all ones as infinity and then hang packing it (pack754 halves it
// forever): CAF 0.17's bug, outside our types (those refuse one, see
// inspect_fields). A node only loads what a peer sends (no handler takes a
// bare double, so it is dropped unread), so such a message is checked for
// loading only, not saved again (docs/protocol.md).
bool finite_numbers(const caf::message& msg) {
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg.match_element<double>(i) && !std::isfinite(msg.get_as<double>(i)))
      return false;
    if (msg.match_element<float>(i) && !std::isfinite(msg.get_as<float>(i)))
      return false;
  }
  return true;
}

/// Writes the seed corpus: each type's default value, alone and in a message.
void write_corpus(const std::string& dir) {
  auto& f = the();
  for (const auto& name : f.names) {
    auto file = name;
    for (auto& c : file)
      if (!std::isalnum(static_cast<unsigned char>(c)))
        c = '_';
    auto value = f.cfg.value_factories_by_name.at(name)();
    std::vector<char> bytes;
    caf::binary_serializer sink{f.sys, bytes};
    if (value->save(sink))
      continue;
    std::ofstream{dir + "/T-" + file, std::ios::binary}
      << 'T' << name << '\0' << std::string(bytes.begin(), bytes.end());
    // A message as CAF 0.17 writes one (type number 0, "@<>+" and the
    // element names, the elements); kept only if it reads back as one.
    bytes.clear();
    caf::binary_serializer msg_sink{f.sys, bytes};
    std::uint16_t zero = 0;
    std::string signature = "@<>+" + name;
    if (msg_sink(zero, signature) || value->save(msg_sink))
      continue;
    caf::message msg;
    caf::binary_deserializer check{f.sys, bytes};
    if (check(msg) || msg.size() != 1)
      continue;
    std::ofstream{dir + "/M-" + file, std::ios::binary}
      << 'M' << std::string(bytes.begin(), bytes.end());
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("BATCHING_FUZZ_WRITE_CORPUS"))
    write_corpus(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto& f = the();
  if (size < 1)
    return 0;
  const auto* bytes = reinterpret_cast<const char*>(data);
  if (bytes[0] == 'M') {
    caf::message msg;
    caf::binary_deserializer source{f.sys, bytes + 1, size - 1};
    if (!source(msg) && finite_numbers(msg))
      check_message(f.sys, msg);
    return 0;
  }
  if (bytes[0] != 'T')
    return 0;
  const auto* end = static_cast<const char*>(std::memchr(bytes, 0, size));
  if (end == nullptr)
    return 0;
  std::string name(bytes + 1, end);
  auto factory = f.cfg.value_factories_by_name.find(name);
  if (name.find("batching::") == std::string::npos
      || factory == f.cfg.value_factories_by_name.end())
    return 0;
  auto value = factory->second();
  caf::binary_deserializer source{
    f.sys, end + 1, size - static_cast<std::size_t>(end + 1 - bytes)};
  if (!value->load(source))
    check_value(f.sys, name, *value);
  return 0;
}
