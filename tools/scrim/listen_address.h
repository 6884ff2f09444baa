// HOST:PORT for commands that listen, parsed by hand and range-checked.
#pragma once

#include <string>
#include <utility>

namespace scrim::cli {

// "127.0.0.1:8080", "[::1]:8080", ":8080" (all interfaces). Throws UsageError
// naming `command` for a missing host or port, or a port outside 0..65535.
std::pair<std::string, int> parse_listen_address(const std::string& text, const std::string& command);

}  // namespace scrim::cli
