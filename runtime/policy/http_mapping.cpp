#include "runtime/policy/http_mapping.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

#include "runtime/policy/text.hpp"

namespace batching {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

template <class T>
std::optional<T> to_number(std::string_view s) {
  T x{};
  if (!all_digits(s))
    return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return x;
}

bool valid_port(std::string_view s) {
  auto n = to_number<unsigned>(s);
  return n && *n <= 65535;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" as seconds since the epoch.
std::optional<std::int64_t> parse_imf_fixdate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> months{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' '
      || s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':'
      || s.substr(25) != " GMT")
    return std::nullopt;
  auto day = to_number<unsigned>(s.substr(5, 2));
  auto year = to_number<int>(s.substr(12, 4));
  auto hour = to_number<int>(s.substr(17, 2));
  auto minute = to_number<int>(s.substr(20, 2));
  auto second = to_number<int>(s.substr(23, 2));
  unsigned month = 0;
  for (unsigned i = 0; i < months.size(); ++i)
    if (s.substr(8, 3) == months[i])
      month = i + 1;
  if (!day || !year || !hour || !minute || !second || month == 0 || *hour > 23
      || *minute > 59 || *second > 60)
    return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{*year},
                                  std::chrono::month{month},
                                  std::chrono::day{*day}};
  if (!ymd.ok())
    return std::nullopt;
  auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return std::int64_t{days} * 86'400 + *hour * 3'600 + *minute * 60 + *second;
}

void append_joined(std::string& out, const batch& b, bool ids) {
  bool first = true;
  for (const auto& op : b.operations) {
    if (!first)
      out += ',';
    first = false;
    if (ids)
      out += std::to_string(op.id);
    else
      out += op.payload;
  }
}

// Calls on_text for literal text and on_name for each {{name}}; false when
// a "{{" is not closed.
template <class Text, class Name>
bool scan_template(std::string_view tmpl, Text on_text, Name on_name) {
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    auto open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) {
      on_text(tmpl.substr(pos));
      return true;
    }
    on_text(tmpl.substr(pos, open - pos));
    auto close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos)
      return false;
    on_name(tmpl.substr(open + 2, close - open - 2));
    pos = close + 2;
  }
  return true;
}

constexpr std::array<std::string_view, 7> placeholders{
  "operations", "payloads", "ids", "count", "batch_id", "attempt", "op_type"};

} // namespace

std::optional<url_parts> parse_url(std::string_view url, std::string* error) {
  auto whole = url;
  auto fail = [&](std::string why) -> std::optional<url_parts> {
    if (error)
      *error = "invalid URL '" + std::string{whole} + "': " + why;
    return std::nullopt;
  };
  url_parts result;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
    result.port = "80";
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    result.tls = true;
    result.port = "443";
  } else {
    return fail("expected http:// or https://");
  }
  auto slash = url.find_first_of("/?");
  auto authority = url.substr(0, slash);
  // A query right after the host gets the root path ("?q" -> "/?q").
  // (Built apart and moved in: g++ 12 -O3 flags assigning the literal
  // with a false -Wrestrict.)
  std::string target(1, '/');
  if (slash != std::string_view::npos)
    target.append(url.substr(url[slash] == '/' ? slash + 1 : slash));
  result.target = std::move(target);
  if (authority.find('@') != std::string_view::npos)
    return fail("credentials in the URL are not supported (use a header)");
  if (!authority.empty() && authority.front() == '[') { // [::1]:8080
    auto end = authority.find(']');
    if (end == std::string_view::npos)
      return fail("unclosed '[' in the host");
    result.host = std::string{authority.substr(1, end - 1)};
    auto rest = authority.substr(end + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !valid_port(rest.substr(1)))
        return fail("bad port");
      result.port = std::string{rest.substr(1)};
    }
  } else {
    auto colon = authority.rfind(':');
    result.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) {
      if (!valid_port(authority.substr(colon + 1)))
        return fail("bad port '" + std::string{authority.substr(colon + 1)}
                    + "'");
      result.port = std::string{authority.substr(colon + 1)};
    }
  }
  if (result.host.empty())
    return fail("no host");
  return result;
}

std::optional<host_port> parse_host_port(std::string_view text,
                                         std::string* error) {
  auto colon = text.rfind(':');
  std::optional<unsigned> port;
  if (colon != std::string_view::npos)
    port = to_number<unsigned>(text.substr(colon + 1));
  if (colon == std::string_view::npos || colon == 0 || !port || *port > 65535) {
    if (error)
      *error = "expected HOST:PORT (e.g. 127.0.0.1:8080), got '"
               + std::string{text} + "'";
    return std::nullopt;
  }
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host_port{std::string{host}, static_cast<std::uint16_t>(*port)};
}

std::optional<duration> parse_retry_after(std::string_view value,
                                          std::int64_t now_unix) {
  value = trim(value);
  if (auto seconds = to_number<std::uint64_t>(value))
    return std::chrono::seconds{std::min<std::uint64_t>(*seconds, 86'400)};
  if (auto at = parse_imf_fixdate(value))
    return std::chrono::seconds{
      std::clamp<std::int64_t>(*at - now_unix, 0, 86'400)};
  return std::nullopt;
}

batch_status classify_status(unsigned code) {
  if (code >= 200 && code < 300)
    return batch_status::ok;
  if (code == 429 || code == 503)
    return batch_status::throttled;
  if (code >= 500 || code == 408)
    return batch_status::retryable_failure;
  return batch_status::permanent_failure;
}

batch_outcome http_outcome(const batch& b, unsigned code,
                           std::string_view retry_after_header,
                           std::string_view body_message, std::int64_t now_unix,
                           duration latency) {
  batch_outcome out;
  out.batch_id = b.batch_id;
  out.status = classify_status(code);
  out.latency = latency;
  if (out.status == batch_status::throttled)
    out.retry_after
      = parse_retry_after(retry_after_header, now_unix).value_or(duration{0});
  if (out.status != batch_status::ok) {
    out.message = "HTTP " + std::to_string(code);
    if (!body_message.empty()) {
      out.message += ": ";
      out.message += body_message;
    }
  }
  return out;
}

batch_outcome transport_outcome(const batch& b, std::string message,
                                duration latency) {
  batch_outcome out;
  out.batch_id = b.batch_id;
  out.status = batch_status::retryable_failure;
  out.latency = latency;
  out.message = std::move(message);
  return out;
}

std::string check_body_template(std::string_view tmpl) {
  std::string problem;
  auto closed = scan_template(
    tmpl, [](std::string_view) {},
    [&](std::string_view name) {
      for (auto known : placeholders)
        if (name == known)
          return;
      if (problem.empty())
        problem = "unknown placeholder {{" + std::string{name}
                  + "}} (known: {{operations}}, {{payloads}}, {{ids}}, "
                    "{{count}}, {{batch_id}}, {{attempt}}, {{op_type}})";
    });
  if (!closed)
    return "unclosed '{{' in the body template";
  return problem;
}

std::string render_body(std::string_view tmpl, const batch& b) {
  std::string out;
  std::size_t bytes = tmpl.size() + 2 * b.operations.size();
  for (const auto& op : b.operations)
    bytes += op.payload.size();
  out.reserve(bytes);
  scan_template(
    tmpl, [&](std::string_view text) { out += text; },
    [&](std::string_view name) {
      if (name == "operations") {
        out += '[';
        append_joined(out, b, false);
        out += ']';
      } else if (name == "payloads") {
        append_joined(out, b, false);
      } else if (name == "ids") {
        out += '[';
        append_joined(out, b, true);
        out += ']';
      } else if (name == "count") {
        out += std::to_string(b.operations.size());
      } else if (name == "batch_id") {
        out += std::to_string(b.batch_id);
      } else if (name == "attempt") {
        out += std::to_string(b.attempt);
      } else if (name == "op_type") {
        out += b.op_type;
      }
    });
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Every byte of the longer text is compared, so the time depends only on
  // the lengths.
  auto n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

} // namespace batching
