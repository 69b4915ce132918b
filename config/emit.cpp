#include "config/emit.hpp"

#include <sstream>
#include <type_traits>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include "config/schema.hpp"
#include "config/yaml_writer.hpp"
#include "runtime/policy/text.hpp"

namespace batching::config {

namespace {

// -- JSON ---------------------------------------------------------------------

class json_writer {
public:
  explicit json_writer(boost::json::object& obj) : obj_(obj) {
    // nop
  }

  template <class T>
  void scalar(std::string_view key, T& field, bounds, std::string_view,
              std::string_view) {
    obj_[key] = field;
  }

  template <class Enum>
  void choice(std::string_view key, Enum& field, std::string_view) {
    obj_[key] = to_string(field);
  }

  void flag(std::string_view key, bool& field, std::string_view) {
    obj_[key] = field;
  }

  void name(std::string_view key, std::string& field, std::string_view) {
    obj_[key] = field;
  }

  void text(std::string_view key, std::string& field, std::string_view) {
    obj_[key] = field;
  }

  void texts(std::string_view key, std::map<std::string, std::string>& fields,
             std::string_view) {
    boost::json::object child;
    for (auto& [name, value] : fields)
      child[name] = value;
    obj_[key] = std::move(child);
  }

  template <class T>
  void section(std::string_view key, T& sub, std::string_view) {
    boost::json::object child;
    json_writer nested{child};
    visit(sub, nested);
    obj_[key] = std::move(child);
  }

  template <class T>
  void map(std::string_view key, std::map<std::string, T>& entries,
           std::string_view) {
    boost::json::object child;
    json_writer nested{child};
    for (auto& [name, entry] : entries)
      nested.section(name, entry, {});
    obj_[key] = std::move(child);
  }

private:
  boost::json::object& obj_;
};

// -- key reference ------------------------------------------------------------

class doc_writer {
public:
  doc_writer(std::ostringstream& out, std::string prefix)
    : out_(out), prefix_(std::move(prefix)) {
    // nop
  }

  template <class T>
  void scalar(std::string_view key, T& field, bounds b, std::string_view unit,
              std::string_view doc) {
    row(key, std::is_integral_v<T> ? "integer" : "number", scalar_text(field),
        to_string(b), unit, doc);
  }

  template <class Enum>
  void choice(std::string_view key, Enum& field, std::string_view doc) {
    row(key, "name", to_string(field), enum_choices<Enum>(), "", doc);
  }

  void flag(std::string_view key, bool& field, std::string_view doc) {
    row(key, "flag", field ? "true" : "false", "true, false", "", doc);
  }

  void name(std::string_view key, std::string& field, std::string_view doc) {
    row(key, "name", field, "lowercase identifier", "", doc);
  }

  void text(std::string_view key, std::string& field, std::string_view doc) {
    row(key, "text", field.empty() ? "\"\"" : field, "any string", "", doc);
  }

  void texts(std::string_view key, std::map<std::string, std::string>&,
             std::string_view doc) {
    row(key, "mapping", "{}", "name: text", "", doc);
  }

  template <class T>
  void section(std::string_view key, T& sub, std::string_view) {
    doc_writer nested{out_, prefix_ + std::string{key} + "."};
    visit(sub, nested);
  }

  template <class T>
  void map(std::string_view key, std::map<std::string, T>&, std::string_view) {
    T defaults;
    auto entry = key == "backends" ? ".<name>." : ".<type>.";
    doc_writer nested{out_, prefix_ + std::string{key} + entry};
    visit(defaults, nested);
  }

private:
  void row(std::string_view key, std::string_view type, const std::string& def,
           const std::string& range, std::string_view unit,
           std::string_view doc) {
    out_ << "| `" << prefix_ << key << "` | " << type << " | " << def << " | "
         << range << " | " << (unit.empty() ? "" : unit) << " | " << doc
         << " |\n";
  }

  std::ostringstream& out_;
  std::string prefix_;
};

} // namespace

std::string to_yaml(const runtime_config& cfg) {
  auto copy = cfg; // the visitors take mutable references
  YAML::Emitter out;
  out << YAML::BeginMap;
  yaml_writer writer{out};
  visit(copy, writer);
  out << YAML::EndMap;
  return std::string{out.c_str()} + "\n";
}

boost::json::value to_json(const runtime_config& cfg) {
  auto copy = cfg;
  boost::json::object obj;
  json_writer writer{obj};
  visit(copy, writer);
  return obj;
}

std::string key_reference() {
  runtime_config defaults;
  // Documented per <type> and <name> instead.
  defaults.operation_configs.clear();
  defaults.backends.clear();
  std::ostringstream out;
  out << "| key | type | default | range | unit | meaning |\n"
      << "|---|---|---|---|---|---|\n";
  doc_writer writer{out, ""};
  visit(defaults, writer);
  return out.str();
}

} // namespace batching::config
