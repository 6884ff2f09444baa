#include "listen_address.h"

#include <algorithm>
#include <cctype>

#include "scrim/core/error.h"

namespace scrim::cli {

std::pair<std::string, int> parse_listen_address(const std::string& text, const std::string& command) {
  auto bad = [&](const std::string& why) { return UsageError(command + ": --listen " + why); };
  if (text.size() > 300) throw bad("is too long");
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) throw bad("must be HOST:PORT");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
    throw bad("port must be a number from 0 to 65535");
  int number = std::stoi(port);
  if (number > 65535) throw bad("port must be a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  return {host, number};
}

}  // namespace scrim::cli
