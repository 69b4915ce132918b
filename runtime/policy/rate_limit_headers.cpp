#include "runtime/policy/rate_limit_headers.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "runtime/policy/text.hpp"

namespace batching {

namespace {

constexpr double max_quota = 1e9;
constexpr double max_seconds = 86'400; // a window or reset over a day: absurd
constexpr double unix_seconds_from = 1e9;
constexpr double unix_millis_from = 1e12;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

/// A decimal number (structured-field integer or decimal, or a plain
/// number as legacy headers send); nothing when not finite or not a number.
std::optional<double> to_double(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 32)
    return std::nullopt;
  double x = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(x))
    return std::nullopt;
  return x;
}

/// One member of a structured-field list or dictionary: an optional key
/// (dictionary), its item (a string or token name, or a number) and its
/// parameters.
struct sf_member {
  std::string key;
  std::string name;             // string or token item
  std::optional<double> number; // numeric item
  std::vector<std::pair<std::string, std::string>> params;
};

/// A scanner over one field value; every step fails softly (false).
class sf_scanner {
public:
  explicit sf_scanner(std::string_view s) : s_(s) {
    // nop
  }

  /// Members separated by commas; false on any syntax error.
  bool members(std::vector<sf_member>& out) {
    skip_space();
    while (pos_ < s_.size()) {
      sf_member m;
      if (!member(m))
        return false;
      out.push_back(std::move(m));
      skip_space();
      if (pos_ == s_.size())
        break;
      if (s_[pos_] != ',')
        return false;
      ++pos_;
      skip_space();
      if (pos_ == s_.size())
        return false; // a trailing comma
    }
    return true;
  }

private:
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t'))
      ++pos_;
  }

  static bool token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
           || c == '*' || c == '/' || c == ':' || c == '!' || c == '#'
           || c == '$' || c == '%' || c == '&' || c == '\'' || c == '+'
           || c == '^' || c == '`' || c == '|' || c == '~';
  }

  /// A bare item as text; `quoted` says whether it was a string.
  bool item(std::string& text, bool& quoted) {
    quoted = false;
    text.clear();
    if (pos_ >= s_.size())
      return false;
    if (s_[pos_] == '"') {
      quoted = true;
      for (++pos_; pos_ < s_.size(); ++pos_) {
        char c = s_[pos_];
        if (c == '\\') {
          if (++pos_ == s_.size())
            return false;
          text += s_[pos_];
        } else if (c == '"') {
          ++pos_;
          return true;
        } else if (c < 0x20 || c == 0x7f) {
          return false;
        } else {
          text += c;
        }
      }
      return false; // unterminated
    }
    if (s_[pos_] == ':') { // byte sequence: kept as text, never a number
      auto close = s_.find(':', pos_ + 1);
      if (close == std::string_view::npos)
        return false;
      text = s_.substr(pos_, close + 1 - pos_);
      pos_ = close + 1;
      quoted = true;
      return true;
    }
    auto start = pos_;
    while (pos_ < s_.size() && token_char(s_[pos_]))
      ++pos_;
    text = s_.substr(start, pos_ - start);
    return !text.empty();
  }

  bool member(sf_member& m) {
    std::string first;
    bool quoted = false;
    if (!item(first, quoted))
      return false;
    skip_space();
    if (!quoted && pos_ < s_.size() && s_[pos_] == '=') {
      // A dictionary member: key=item.
      ++pos_;
      skip_space();
      m.key = first;
      if (!item(first, quoted))
        return false;
    }
    if (!quoted)
      m.number = to_double(first);
    if (quoted || !m.number)
      m.name = first;
    skip_space();
    while (pos_ < s_.size() && s_[pos_] == ';') {
      ++pos_;
      skip_space();
      std::string key, value;
      bool q = false;
      if (!item(key, q) || q)
        return false;
      if (pos_ < s_.size() && s_[pos_] == '=') {
        ++pos_;
        if (!item(value, q))
          return false;
      } else {
        value = "?1"; // a boolean parameter
      }
      m.params.emplace_back(std::move(key), std::move(value));
      skip_space();
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

/// One policy as read, before validation.
struct candidate {
  std::string source; // the style, for messages
  std::string name;
  rate_limit_advice a;
  bool joined = false; // a policy a RateLimit member used
};

std::optional<double> param(const sf_member& m, std::string_view key) {
  for (const auto& [k, v] : m.params)
    if (iequals(k, key))
      return to_double(v);
  return std::nullopt;
}

bool has_param(const sf_member& m, std::string_view key) {
  for (const auto& [k, v] : m.params)
    if (iequals(k, key))
      return true;
  return false;
}

class reader {
public:
  explicit reader(std::int64_t now_unix) : now_unix_(now_unix) {
    // nop
  }

  void complain(std::string what) {
    if (problem.empty())
      problem = std::move(what);
  }

  std::vector<sf_member> list(const header_field& f) {
    std::vector<sf_member> out;
    if (!sf_scanner{f.value}.members(out)) {
      complain(f.name + ": '" + f.value + "' does not parse");
      out.clear();
    }
    return out;
  }

  /// A numeric field or parameter present but not a number.
  std::optional<double> number(const header_field& f) {
    auto x = to_double(f.value);
    if (!x) {
      // Some servers send "30, 30;w=10" in -Limit: the first item counts.
      std::vector<sf_member> ms;
      if (sf_scanner{f.value}.members(ms) && !ms.empty() && ms[0].number)
        return ms[0].number;
      complain(f.name + ": '" + f.value + "' is not a number");
    }
    return x;
  }

  /// Checks a candidate (see the header) and keeps it if it is sound.
  void keep(candidate c) {
    auto& a = c.a;
    auto bad = [&](const std::string& why) {
      complain(c.source + (c.name.empty() ? "" : " '" + c.name + "'") + ": "
               + why + " (ignored)");
    };
    for (double x : {a.quota, a.window_s, a.remaining, a.reset_s})
      if (!std::isfinite(x)) {
        bad("a value is not finite");
        return;
      }
    if ((a.quota < 0 && a.quota != -1) || (a.window_s < 0 && a.window_s != -1)
        || (a.remaining < 0 && a.remaining != -1)
        || (a.reset_s < 0 && a.reset_s != -1)) {
      bad("a negative or unreadable value");
      return;
    }
    if (a.quota > max_quota || a.remaining > max_quota) {
      bad("a quota over " + format_number(max_quota));
      return;
    }
    if (a.window_s > max_seconds || a.reset_s > max_seconds) {
      bad("a window or reset over a day");
      return;
    }
    if (a.quota == 0 || a.window_s == 0) {
      bad("a zero quota or window");
      return;
    }
    if (a.quota >= 0 && a.remaining > a.quota) {
      bad("remaining " + format_number(a.remaining) + " exceeds the quota "
          + format_number(a.quota));
      return;
    }
    if (a.window_s >= 0 && a.reset_s > a.window_s + 1) {
      bad("reset " + format_number(a.reset_s) + " s exceeds the window "
          + format_number(a.window_s) + " s");
      return;
    }
    if (!a.any())
      return;
    kept.push_back(std::move(c));
  }

  /// A legacy reset: seconds, or a Unix time in seconds or milliseconds.
  double legacy_reset(double x) {
    if (x >= unix_millis_from)
      x = x / 1000;
    if (x >= unix_seconds_from)
      return std::max(0.0, x - static_cast<double>(now_unix_));
    return x;
  }

  std::string problem;
  std::vector<candidate> kept;

private:
  std::int64_t now_unix_;
};

const header_field* find(const std::vector<header_field>& fields,
                         std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name))
      return &f;
  return nullptr;
}

/// The allowance of a candidate (requests/s it lets through now).
double allowance(const rate_limit_advice& a) {
  constexpr auto unbounded = std::numeric_limits<double>::infinity();
  if (a.remaining == 0)
    return 0;
  if (a.remaining > 0 && a.reset_s >= 0)
    return a.reset_s > 0 ? a.remaining / a.reset_s : unbounded;
  if (a.quota > 0 && a.window_s > 0)
    return a.quota / a.window_s;
  return unbounded;
}

/// Draft 6 and 7 policies ("30;w=10"): the window of the policy whose
/// quota is q, or of the first one.
double policy_window(reader& rd, const std::vector<header_field>& fields,
                     double q) {
  double first = -1;
  for (const auto& f : fields) {
    if (!iequals(f.name, "RateLimit-Policy"))
      continue;
    for (const auto& m : rd.list(f)) {
      if (!m.number)
        continue;
      auto w = param(m, "w").value_or(-1);
      if (*m.number == q)
        return w;
      if (first < 0)
        first = w;
    }
  }
  return first;
}

void read_draft8(reader& rd, const std::vector<header_field>& fields,
                 const std::vector<sf_member>& limits) {
  std::vector<candidate> policies;
  for (const auto& f : fields) {
    if (!iequals(f.name, "RateLimit-Policy"))
      continue;
    for (const auto& m : rd.list(f)) {
      if (m.number || !has_param(m, "q"))
        continue; // a draft 6/7 policy, read with those
      candidate c{"RateLimit-Policy", m.name, {}, false};
      c.a.quota = param(m, "q").value_or(-2);
      if (has_param(m, "w"))
        c.a.window_s = param(m, "w").value_or(-2);
      policies.push_back(std::move(c));
    }
  }
  for (const auto& m : limits) {
    if (m.number || !m.key.empty())
      continue;
    candidate c{"RateLimit", m.name, {}, false};
    for (auto& p : policies)
      if (p.name == m.name) {
        c.a = p.a;
        p.joined = true; // not kept on its own below
      }
    if (has_param(m, "r"))
      c.a.remaining = param(m, "r").value_or(-2);
    if (has_param(m, "t"))
      c.a.reset_s = param(m, "t").value_or(-2);
    rd.keep(std::move(c));
  }
  for (auto& p : policies)
    if (!p.joined)
      rd.keep(std::move(p));
}

void read_draft7(reader& rd, const std::vector<header_field>& fields,
                 const std::vector<sf_member>& limits) {
  candidate c{"RateLimit", "", {}, false};
  bool seen = false;
  for (const auto& m : limits) {
    if (m.key.empty())
      continue;
    auto value = m.number.value_or(-2);
    if (iequals(m.key, "limit"))
      c.a.quota = value;
    else if (iequals(m.key, "remaining"))
      c.a.remaining = value;
    else if (iequals(m.key, "reset"))
      c.a.reset_s = value;
    else
      continue;
    seen = true;
  }
  if (!seen)
    return;
  if (c.a.quota > 0)
    c.a.window_s = policy_window(rd, fields, c.a.quota);
  rd.keep(std::move(c));
}

void read_separate(reader& rd, const std::vector<header_field>& fields,
                   std::string_view prefix, bool legacy) {
  auto field = [&](std::string_view suffix) {
    return find(fields, std::string{prefix} + std::string{suffix});
  };
  auto limit = field("Limit");
  auto remaining = field("Remaining");
  auto reset = field("Reset");
  auto used = legacy ? field("Used") : nullptr;
  if (!limit && !remaining && !reset)
    return;
  candidate c{std::string{prefix} + "*", "", {}, false};
  if (limit) {
    c.a.quota = rd.number(*limit).value_or(-2);
    // "30;w=10" in -Limit (some draft 6 servers) carries the window.
    std::vector<sf_member> ms;
    if (sf_scanner{limit->value}.members(ms))
      for (const auto& m : ms)
        if (auto w = param(m, "w"); w && m.number == c.a.quota) {
          c.a.window_s = *w;
          break;
        }
    if (c.a.window_s < 0 && c.a.quota > 0 && !legacy)
      c.a.window_s = policy_window(rd, fields, c.a.quota);
  }
  if (remaining)
    c.a.remaining = rd.number(*remaining).value_or(-2);
  else if (used && c.a.quota >= 0)
    if (auto u = rd.number(*used))
      c.a.remaining = std::max(0.0, c.a.quota - *u);
  if (reset) {
    auto x = rd.number(*reset);
    c.a.reset_s = x ? (legacy && *x >= 0 ? rd.legacy_reset(*x) : *x) : -2;
  }
  rd.keep(std::move(c));
}

std::string whole(double x, bool up) {
  return format_number(up ? std::ceil(x - 1e-9) : std::floor(x + 1e-9));
}

} // namespace

bool is_rate_limit_header(std::string_view name) {
  auto starts = [&](std::string_view p) {
    return name.size() >= p.size() && iequals(name.substr(0, p.size()), p);
  };
  return starts("RateLimit") || starts("X-RateLimit");
}

rate_limit_reading
read_rate_limit_headers(const std::vector<header_field>& fields,
                        std::int64_t now_unix) {
  reader rd{now_unix};
  std::vector<sf_member> limits;
  for (const auto& f : fields)
    if (iequals(f.name, "RateLimit"))
      for (auto& m : rd.list(f))
        limits.push_back(std::move(m));
  read_draft8(rd, fields, limits);
  read_draft7(rd, fields, limits);
  read_separate(rd, fields, "RateLimit-", false);
  read_separate(rd, fields, "X-RateLimit-", true);
  rate_limit_reading out;
  out.problem = std::move(rd.problem);
  const candidate* binding = nullptr;
  for (const auto& c : rd.kept)
    if (!binding || allowance(c.a) < allowance(binding->a))
      binding = &c;
  if (binding)
    out.advice = binding->a;
  return out;
}

std::vector<header_field>
write_rate_limit_headers(header_style style, double quota, double window_s,
                         double remaining, double reset_s,
                         std::int64_t now_unix) {
  auto q = whole(quota, false);
  auto w = whole(window_s, true);
  auto r = whole(std::max(0.0, remaining), false);
  auto t = whole(std::max(0.0, reset_s), true);
  switch (style) {
    case header_style::ietf:
      return {{"RateLimit-Policy", "\"default\";q=" + q + ";w=" + w},
              {"RateLimit", "\"default\";r=" + r + ";t=" + t}};
    case header_style::ietf_draft7:
      return {{"RateLimit", "limit=" + q + ", remaining=" + r + ", reset=" + t},
              {"RateLimit-Policy", q + ";w=" + w}};
    case header_style::ietf_draft6:
      return {{"RateLimit-Limit", q},
              {"RateLimit-Remaining", r},
              {"RateLimit-Reset", t},
              {"RateLimit-Policy", q + ";w=" + w}};
    case header_style::x_ratelimit:
      return {{"X-RateLimit-Limit", q},
              {"X-RateLimit-Remaining", r},
              {"X-RateLimit-Reset", t}};
    case header_style::x_ratelimit_epoch:
      return {{"X-RateLimit-Limit", q},
              {"X-RateLimit-Remaining", r},
              {"X-RateLimit-Reset",
               whole(static_cast<double>(now_unix) + reset_s, true)}};
    default: return {};
  }
}

} // namespace batching
