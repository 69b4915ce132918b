#pragma once

// The runtime's error codes (runtime/policy/errors.hpp) as a CAF error
// category ("batching"). Handlers
// return them inside `caf::result<T>` (`return error_code::queue_full;` works
// through ADL on make_error); register_types() installs the renderer, so
// `sys.render(err)` reads e.g. "batching_error(queue_full: 12 > 10 queued)".

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "runtime/policy/errors.hpp"

namespace batching {

/// The category atom of every batching error.
constexpr caf::atom_value error_category = caf::atom("batching");

/// Makes a CAF error of our category; `context` says what went wrong.
caf::error make_error(error_code code, std::string context = {});

/// Returns the error code of `err`, or `error_code::none` when `err` is not
/// of our category.
error_code code_of(const caf::error& err);

/// Renders an error of our category (the renderer registered with CAF).
std::string render_error(std::uint8_t code, const caf::message& context);

} // namespace batching
