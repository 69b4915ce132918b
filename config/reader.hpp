#pragma once

// The YAML reader behind every file the project reads (configuration and
// simulator scenarios): a visitor over a `visit(T&, V&)` schema (see
// config/schema.hpp) that fills a struct from one mapping and reports
// every problem with file:line:column, the expected type or range, and the
// closest valid key or name. Extra visitor op for reader-only schemas:
//   list(key, std::vector<T>&, doc)   sequence of mappings, each a T
//   names(key, std::vector<std::string>&, doc)  sequence of names
//   counts(key, std::vector<std::uint32_t>&, bounds, doc)  whole numbers

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/loader.hpp"
#include "config/schema.hpp"

namespace batching::config::detail {

// -- positions and messages ---------------------------------------------------

struct position {
  int line = 0; // 1-based, 0 = none
  int column = 0;
};

inline position position_of(const YAML::Mark& mark) {
  if (mark.is_null())
    return {};
  return {mark.line + 1, mark.column + 1};
}

/// Where a key's effective value came from (for cross-field errors).
struct origin {
  std::string file;
  position pos;
  std::string environment;
};

/// How a node looks, for "expected X, got Y" messages.
inline std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    default: return "nothing";
  }
}

/// Everything the readers of one file share.
struct context {
  std::string file;
  std::string environment; // empty: the file's base
  std::vector<diagnostic>* errors;
  std::map<std::string, origin>* origins;

  void error(position pos, std::string message) const {
    if (!environment.empty())
      message += " (environment '" + environment + "')";
    errors->push_back({file, pos.line, pos.column, std::move(message)});
  }

  void error(const YAML::Mark& mark, std::string message) const {
    error(position_of(mark), std::move(message));
  }

  void set_origin(const std::string& path, const YAML::Mark& mark) const {
    (*origins)[path] = origin{file, position_of(mark), environment};
  }
};

inline bool is_identifier(const std::string& name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z'))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// -- the reader: YAML node -> struct, one mapping at a time -------------------

class reader {
public:
  reader(YAML::Node node, std::string path, const context& ctx)
    : node_(std::move(node)), path_(std::move(path)), ctx_(ctx) {
    // nop
  }

  template <class T>
  void scalar(std::string_view key, T& field, bounds b, std::string_view,
              std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    constexpr bool whole = std::is_integral_v<T>;
    auto wrong_type = [&] {
      ctx_.error(e.mark, e.path
                           + (whole ? ": expected a whole number, got "
                                    : ": expected a number, got ")
                           + describe(e.value));
    };
    if (!e.value.IsScalar())
      return wrong_type();
    double number = 0;
    if constexpr (whole) {
      long long parsed = 0;
      if (!YAML::convert<long long>::decode(e.value, parsed))
        return wrong_type();
      number = static_cast<double>(parsed);
    } else {
      if (!YAML::convert<double>::decode(e.value, number)
          || !std::isfinite(number))
        return wrong_type();
    }
    if (number < b.min || (b.min_open && number == b.min) || number > b.max) {
      ctx_.error(e.mark, e.path + ": " + e.value.Scalar() + " is out of range "
                           + to_string(b));
      return;
    }
    field = static_cast<T>(number);
    ctx_.set_origin(e.path, e.mark);
  }

  template <class Enum>
  void choice(std::string_view key, Enum& field, std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    if (!e.value.IsScalar()) {
      ctx_.error(e.mark, e.path + ": expected one of " + enum_choices<Enum>()
                           + ", got " + describe(e.value));
      return;
    }
    auto text = e.value.Scalar();
    if (auto parsed = parse_enum<Enum>(text)) {
      field = *parsed;
      ctx_.set_origin(e.path, e.mark);
      return;
    }
    std::vector<std::string> names(enum_names<Enum>::names.begin(),
                                   enum_names<Enum>::names.end());
    auto message = e.path + ": unknown " + std::string{key} + " '" + text
                   + "' (expected one of: " + enum_choices<Enum>() + ")";
    if (auto close = closest_match(text, names); !close.empty())
      message += "; did you mean '" + close + "'?";
    ctx_.error(e.mark, std::move(message));
  }

  void flag(std::string_view key, bool& field, std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    bool value = false;
    if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, value)) {
      ctx_.error(e.mark,
                 e.path + ": expected true or false, got " + describe(e.value));
      return;
    }
    field = value;
    ctx_.set_origin(e.path, e.mark);
  }

  void name(std::string_view key, std::string& field, std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    if (!e.value.IsScalar() || !is_identifier(e.value.Scalar())) {
      ctx_.error(e.mark, e.path
                           + ": expected a name (lowercase letters, digits "
                             "and '_', starting with a letter), got "
                           + describe(e.value));
      return;
    }
    field = e.value.Scalar();
    ctx_.set_origin(e.path, e.mark);
  }

  void text(std::string_view key, std::string& field, std::string_view) {
    auto e = find(key);
    if (!e.value)
      return;
    if (!e.value.IsScalar()) {
      ctx_.error(e.mark,
                 e.path + ": expected a string, got " + describe(e.value));
      return;
    }
    field = e.value.Scalar();
    ctx_.set_origin(e.path, e.mark);
  }

  void texts(std::string_view key, std::map<std::string, std::string>& out,
             std::string_view) {
    auto e = find(key);
    if (!e.value || !is_mapping(e.value, e.mark, e.path))
      return;
    for (const auto& kv : e.value) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
        ctx_.error(kv.first.Mark(), e.path + ": keys must be plain names");
        continue;
      }
      auto path = e.path + "." + kv.first.Scalar();
      if (!kv.second.IsScalar()) {
        ctx_.error(kv.second.Mark(),
                   path + ": expected a string, got " + describe(kv.second));
        continue;
      }
      out[kv.first.Scalar()] = kv.second.Scalar();
      ctx_.set_origin(path, kv.second.Mark());
    }
  }

  template <class T>
  void section(std::string_view key, T& sub, std::string_view) {
    auto e = find(key);
    if (e.value && is_mapping(e.value, e.mark, e.path))
      descend(e.value, e.path, sub);
  }

  template <class T>
  void map(std::string_view key, std::map<std::string, T>& entries,
           std::string_view) {
    auto e = find(key);
    if (!e.value || !is_mapping(e.value, e.mark, e.path))
      return;
    std::set<std::string> seen;
    for (const auto& kv : e.value) {
      if (!kv.first.IsScalar()) {
        ctx_.error(kv.first.Mark(), e.path + ": keys must be plain names");
        continue;
      }
      auto name = kv.first.Scalar();
      if (!is_identifier(name)) {
        ctx_.error(kv.first.Mark(),
                   e.path + ": invalid name '" + name
                     + "' (use lowercase letters, digits and '_', starting "
                       "with a letter)");
        continue;
      }
      if (!seen.insert(name).second) {
        ctx_.error(kv.first.Mark(),
                   "duplicate key '" + name + "' in " + e.path);
        continue;
      }
      auto& entry = entries[name]; // new names start from the defaults
      auto path = e.path + "." + name;
      if (is_mapping(kv.second, kv.second.Mark(), path))
        descend(kv.second, path, entry);
    }
  }

  template <class T>
  void list(std::string_view key, std::vector<T>& entries, std::string_view) {
    auto e = find(key);
    if (!e.value || e.value.IsNull())
      return;
    if (!e.value.IsSequence()) {
      ctx_.error(e.mark,
                 e.path + ": expected a sequence, got " + describe(e.value));
      return;
    }
    entries.clear(); // a file's list replaces the previous one
    std::size_t index = 0;
    for (const auto& item : e.value) {
      auto path = e.path + "[" + std::to_string(index++) + "]";
      auto& entry = entries.emplace_back();
      if (is_mapping(item, item.Mark(), path))
        descend(item, path, entry);
    }
  }

  /// A sequence of names (lowercase identifiers).
  void names(std::string_view key, std::vector<std::string>& out,
             std::string_view) {
    auto e = find(key);
    if (!e.value || e.value.IsNull())
      return;
    if (!e.value.IsSequence()) {
      ctx_.error(e.mark, e.path + ": expected a sequence of names, got "
                           + describe(e.value));
      return;
    }
    out.clear();
    for (const auto& item : e.value) {
      if (!item.IsScalar() || !is_identifier(item.Scalar())) {
        ctx_.error(item.Mark(),
                   e.path + ": expected a name, got " + describe(item));
        continue;
      }
      out.push_back(item.Scalar());
    }
  }

  /// A sequence of whole numbers within `b`.
  void counts(std::string_view key, std::vector<std::uint32_t>& out, bounds b,
              std::string_view) {
    auto e = find(key);
    if (!e.value || e.value.IsNull())
      return;
    if (!e.value.IsSequence()) {
      ctx_.error(e.mark, e.path
                           + ": expected a sequence of whole numbers, "
                             "got "
                           + describe(e.value));
      return;
    }
    out.clear();
    for (const auto& item : e.value) {
      long long n = 0;
      if (!item.IsScalar() || !YAML::convert<long long>::decode(item, n)
          || n < b.min || n > b.max) {
        ctx_.error(item.Mark(), e.path + ": expected a whole number in "
                                  + to_string(b) + ", got " + describe(item));
        continue;
      }
      out.push_back(static_cast<std::uint32_t>(n));
    }
  }

  /// Declares a key handled outside the schema (the root's environments).
  void allow(std::string_view key) { valid_.emplace_back(key); }

  /// Reports keys that are unknown or appear twice in this mapping.
  void finish() {
    std::map<std::string, int> first_line;
    for (const auto& kv : node_) {
      const auto& key = kv.first;
      if (!key.IsScalar()) {
        ctx_.error(key.Mark(), "keys must be plain names " + where());
        continue;
      }
      auto name = key.Scalar();
      if (auto [it, fresh]
          = first_line.emplace(name, position_of(key.Mark()).line);
          !fresh) {
        ctx_.error(key.Mark(), "duplicate key '" + name + "' " + where()
                                 + " (first at line "
                                 + std::to_string(it->second) + ")");
        continue;
      }
      if (std::find(valid_.begin(), valid_.end(), name) != valid_.end())
        continue;
      auto message = "unknown key '" + name + "' " + where();
      if (auto close = closest_match(name, valid_); !close.empty())
        message += "; did you mean '" + close + "'?";
      else
        message += " (valid keys: " + join(valid_) + ")";
      ctx_.error(key.Mark(), std::move(message));
    }
  }

private:
  static std::string join(const std::vector<std::string>& names) {
    std::string result;
    for (const auto& name : names)
      result += (result.empty() ? "" : ", ") + name;
    return result;
  }

  std::string full(std::string_view key) const {
    return path_.empty() ? std::string{key} : path_ + "." + std::string{key};
  }

  std::string where() const {
    if (!path_.empty())
      return "in " + path_;
    if (!ctx_.environment.empty())
      return "in environments." + ctx_.environment;
    return "at top level";
  }

  /// A key's value, its full path, and where to report problems with it
  /// (the value's position, or the key's when the value has none).
  struct entry {
    YAML::Node value; // undefined when the key is absent
    std::string path;
    YAML::Mark mark;
  };

  /// The first value under `key` (duplicates are reported by finish()).
  entry find(std::string_view key) {
    valid_.emplace_back(key);
    for (const auto& kv : node_)
      if (kv.first.IsScalar() && kv.first.Scalar() == key)
        return {kv.second, full(key),
                kv.second.Mark().is_null() ? kv.first.Mark()
                                           : kv.second.Mark()};
    return {YAML::Node{YAML::NodeType::Undefined}, full(key),
            YAML::Mark::null_mark()};
  }

  /// Whether to read `value` as a mapping; reports anything else except
  /// an empty value (`key:` with nothing below is an empty mapping).
  bool is_mapping(const YAML::Node& value, const YAML::Mark& mark,
                  const std::string& path) const {
    if (value.IsMap())
      return true;
    if (!value.IsNull())
      ctx_.error(mark, path + ": expected a mapping, got " + describe(value));
    return false;
  }

  template <class T>
  void descend(const YAML::Node& value, const std::string& path, T& sub) {
    reader nested{value, path, ctx_};
    visit(sub, nested);
    nested.finish();
  }

  YAML::Node node_;
  std::string path_;
  const context& ctx_;
  std::vector<std::string> valid_;
};

/// The root mapping of `src` (an empty file is an empty mapping), or an
/// undefined node after reporting why not (unreadable, malformed YAML,
/// several documents, not a mapping).
YAML::Node parse_root(const source& src, std::vector<diagnostic>& errors);

} // namespace batching::config::detail

namespace batching::config {

/// Reads one file into `out` (which holds the defaults) through its
/// `visit` schema; returns every problem found.
template <class T>
std::vector<diagnostic> read_document(const source& src, T& out) {
  std::vector<diagnostic> errors;
  auto root = detail::parse_root(src, errors);
  if (!root.IsDefined())
    return errors;
  std::map<std::string, detail::origin> origins;
  detail::context ctx{src.name, {}, &errors, &origins};
  detail::reader r{root, {}, ctx};
  visit(out, r);
  r.finish();
  return errors;
}

} // namespace batching::config
