#pragma once

// Writes what a schema visitor walks (visit(x, v), see schema.hpp and
// sim/scenario.hpp) as YAML: the configuration's emitter and the
// simulator's scenarios share it.

#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/schema.hpp"
#include "runtime/policy/text.hpp"

namespace batching::config {

/// A number as the configuration writes it (whole numbers as integers).
template <class T>
std::string scalar_text(const T& x) {
  if constexpr (std::is_integral_v<T>)
    return std::to_string(x);
  else
    return format_number(x);
}

/// A schema visitor (see schema.hpp) that writes what it visits as YAML the
/// reader (reader.hpp) reads back to an equal struct.
class yaml_writer {
public:
  explicit yaml_writer(YAML::Emitter& out) : out_(out) {
    // nop
  }

  template <class T>
  void scalar(std::string_view key, T& field, bounds, std::string_view,
              std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << scalar_text(field);
  }

  template <class Enum>
  void choice(std::string_view key, Enum& field, std::string_view) {
    using batching::to_string; // enums of other namespaces (sim) too
    out_ << YAML::Key << std::string{key} << YAML::Value << to_string(field);
  }

  void flag(std::string_view key, bool& field, std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << field;
  }

  void name(std::string_view key, std::string& field, std::string_view) {
    if (field.empty())
      return; // an optional name left out (the reader refuses an empty one)
    out_ << YAML::Key << std::string{key} << YAML::Value << field;
  }

  void text(std::string_view key, std::string& field, std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << YAML::DoubleQuoted
         << field;
  }

  void texts(std::string_view key, std::map<std::string, std::string>& fields,
             std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << YAML::BeginMap;
    for (auto& [name, value] : fields)
      text(name, value, {});
    out_ << YAML::EndMap;
  }

  template <class T>
  void section(std::string_view key, T& sub, std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << YAML::BeginMap;
    visit(sub, *this);
    out_ << YAML::EndMap;
  }

  template <class T>
  void map(std::string_view key, std::map<std::string, T>& entries,
           std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << YAML::BeginMap;
    for (auto& [name, entry] : entries)
      section(name, entry, {});
    out_ << YAML::EndMap;
  }

  template <class T>
  void list(std::string_view key, std::vector<T>& entries, std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << YAML::BeginSeq;
    for (auto& entry : entries) {
      out_ << YAML::BeginMap;
      visit(entry, *this);
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }

  void names(std::string_view key, std::vector<std::string>& entries,
             std::string_view) {
    out_ << YAML::Key << std::string{key} << YAML::Value << YAML::Flow
         << YAML::BeginSeq;
    for (auto& name : entries)
      out_ << name;
    out_ << YAML::EndSeq;
  }

private:
  YAML::Emitter& out_;
};

} // namespace batching::config
