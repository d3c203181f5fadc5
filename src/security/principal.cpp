#include "security/principal.h"

namespace carelog::security {

bool parse_principal(std::string_view text, Principal& out) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  out.type = std::string(text.substr(0, colon));
  out.name = std::string(text.substr(colon + 1));
  return true;
}

}  // namespace carelog::security
