#include "scrim/core/error.h"

namespace scrim {

std::string one_line(const std::string& message) {
  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (c == '\r') continue;
    if (c == '\n') {
      if (i + 1 < message.size()) out += "; ";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace scrim
