#include "messages/error.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "messages/messages.hpp"

namespace batching {

caf::error make_error(error_code code, std::string context) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    context.empty() ? caf::message{}
                                    : caf::make_message(std::move(context))};
}

caf::error wire_error(bool fine, const char* type) {
  if (fine)
    return caf::error{};
  return make_error(error_code::bad_request,
                    std::string{type}
                      + ": a field holds an enum number without a name or a "
                        "number that is not finite");
}

error_code code_of(const caf::error& err) {
  if (!err || err.category() != error_category)
    return error_code::none;
  return static_cast<error_code>(err.code());
}

std::string render_error(std::uint8_t code, const caf::message& context) {
  std::string result = "batching_error(";
  result += to_string(static_cast<error_code>(code));
  if (context.match_elements<std::string>()) {
    result += ": ";
    result += context.get_as<std::string>(0);
  }
  result += ')';
  return result;
}

} // namespace batching
