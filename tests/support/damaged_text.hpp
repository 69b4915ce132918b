#pragma once

// Fuzzing helper for RapidCheck properties: a valid document damaged at
// random (what a typo, a truncated upload or a hostile client produces),
// so that parsers are exercised near valid input, where bugs hide, rather
// than only on noise they reject at the first byte.

#include <rapidcheck.h>
#include <string>

namespace batching::testing_support {

/// `text` with `edits` random insertions and replacements of characters
/// from `noise`, deletions of up to `max_cut` characters, and (when
/// `truncate`) cuts of the whole rest.
inline std::string damaged(std::string text, const std::string& noise,
                           int edits, std::size_t max_cut = 10,
                           bool truncate = false) {
  for (int i = 0; i < edits; ++i) {
    auto at = *rc::gen::inRange<std::size_t>(0, text.size() + 1);
    auto c = *rc::gen::elementOf(noise);
    switch (*rc::gen::inRange(0, truncate ? 4 : 3)) {
      case 0: text.insert(at, 1, c); break;
      case 1:
        if (at < text.size())
          text.erase(at, *rc::gen::inRange<std::size_t>(1, max_cut + 1));
        break;
      case 2:
        if (at < text.size())
          text[at] = c;
        break;
      default: text.resize(at);
    }
  }
  return text;
}

} // namespace batching::testing_support
