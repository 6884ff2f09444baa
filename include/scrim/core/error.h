// Errors by layer (see STYLE.md): library code throws scrim::Error for runtime
// failures (bad files, bad data, a failing service) and scrim::UsageError for a
// bad configuration; the CLI maps them to exit codes 1 and 2 and prints the
// message as one line.
#pragma once

#include <stdexcept>
#include <string>

namespace scrim {

// A runtime failure: the input or the environment is at fault. Exit code 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// The caller asked for something that cannot work (bad option, bad spec). Exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitUsageError = 2;

// Collapses a message onto one line (newlines become "; ") so errors stay greppable.
std::string one_line(const std::string& message);

}  // namespace scrim
