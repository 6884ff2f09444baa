// The --mllm flag and the oracle-stack flags (cache, budget, rate limit,
// retries, timeouts) shared by every command that queries an MLLM.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "scrim/reference/oracle_factory.h"

namespace scrim::cli {

struct OracleCliOptions {
  std::string spec;
  OracleStackOptions stack;
};

// Adds the flags to `cmd`; `required` makes --mllm mandatory.
std::shared_ptr<OracleCliOptions> add_oracle_options(CLI::App* cmd, bool required = true);

}  // namespace scrim::cli
