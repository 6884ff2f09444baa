#include "oracle_options.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace scrim::cli {
namespace {

// A finite number in [lo, hi]: CLI::Range lets NaN through, and NaN or a
// huge rate or delay would overflow the clock arithmetic downstream.
CLI::Validator number_in(double lo, double hi, const std::string& what) {
  return CLI::Validator(
      [lo, hi, what](std::string& text) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || !std::isfinite(v) || v < lo || v > hi) {
          char range[64];
          std::snprintf(range, sizeof range, "%g to %g", lo, hi);
          return "'" + text.substr(0, 40) + "' is not " + what + " from " + range;
        }
        return "";
      },
      "NUMBER");
}

}  // namespace

std::shared_ptr<OracleCliOptions> add_oracle_options(CLI::App* cmd, bool required) {
  auto o = std::make_shared<OracleCliOptions>();
  auto* spec = cmd->add_option("--mllm", o->spec,
                               "The MLLM: reference:MODEL_FILE or openai:BASE_URL#MODEL (key from SCRIM_API_KEY; OPENAI_API_KEY for https://api.openai.com only)");
  if (required) spec->required();
  auto& s = o->stack;
  cmd->add_option("--cache", s.cache, "SQLite response cache (reused across runs)");
  cmd->add_option("--max-queries", s.budget.max_queries, "Query budget (0: unlimited)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-tokens", s.budget.max_tokens, "Token budget (0: unlimited)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-cost", s.budget.max_cost, "Cost budget, with --price-prompt/--price-completion (0: unlimited)")
      ->check(number_in(0, 1e12, "an amount"));
  cmd->add_option("--price-prompt", s.budget.price_per_1k_prompt, "Price of 1,000 prompt tokens")->check(number_in(0, 1e12, "a price"));
  cmd->add_option("--price-completion", s.budget.price_per_1k_completion, "Price of 1,000 completion tokens")->check(number_in(0, 1e12, "a price"));
  cmd->add_option("--rps", s.per_second, "Rate limit: requests per second (0: none)")
      ->check(number_in(0, 10000, "a rate"));
  cmd->add_option("--rpm", s.per_minute, "Rate limit: requests per minute (0: none)")
      ->check(number_in(0, 600000, "a rate"));
  cmd->add_option("--retries", s.retry.max_retries, "Retries of transient failures")->capture_default_str()->check(CLI::Range(0, 100));
  cmd->add_option("--concurrency", s.concurrency, "HTTP requests in flight")->capture_default_str()->check(CLI::Range(1, 256));
  s.retry.deadline_s = 300;
  cmd->add_option("--timeout", s.retry.deadline_s,
                  "Deadline of one MLLM call in seconds, every retry and back-off included (0: none)")
      ->capture_default_str()
      ->check(number_in(0, 86400, "a number of seconds"));
  return o;
}

}  // namespace scrim::cli
