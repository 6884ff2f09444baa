// `scrim ask`: one query to an MLLM, for trying an endpoint by hand.
#include <cmath>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "oracle_options.h"
#include "scrim/media/image_io.h"

namespace scrim::cli {

void add_ask_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("ask", "Send one question with image(s) to an MLLM and print the answer");
  auto oracle_opts = add_oracle_options(cmd);
  auto images = std::make_shared<std::vector<std::string>>();
  auto prompt = std::make_shared<std::string>();
  auto top = std::make_shared<int>(5);
  auto jpeg = std::make_shared<bool>(false);
  cmd->add_option("--image", *images, "Image file(s)")->required()->expected(1, -1);
  cmd->add_option("--prompt", *prompt, "The question")->required();
  cmd->add_option("--top-logprobs", *top, "Log-probs of the top K tokens (0: none)")->capture_default_str()->check(CLI::Range(0, 20));
  cmd->add_flag("--jpeg", *jpeg, "Send JPEG instead of lossless PNG");
  cmd->callback([=] {
    OracleRequest request;
    for (const auto& path : *images) request.images.push_back(read_image(path));
    request.prompt = *prompt;
    request.options.top_logprobs = *top;
    if (*jpeg) request.options.encoding = ImageEncoding::kJpeg;
    auto stack = make_oracle(oracle_opts->spec, oracle_opts->stack);
    OracleReply reply = stack.oracle->query(request);
    nlohmann::json lp = nlohmann::json::array();
    for (const auto& t : reply.logprobs) {
      nlohmann::json alts = nlohmann::json::array();
      for (const auto& a : t.top) alts.push_back({{"token", a.token}, {"logprob", a.logprob}});
      lp.push_back({{"token", t.token}, {"logprob", t.logprob}, {"top_logprobs", alts}});
    }
    nlohmann::json j = {{"model", stack.oracle->model_id()},
                        {"answer", reply.text},
                        {"logprobs", lp},
                        {"usage", {{"prompt_tokens", reply.usage.prompt_tokens}, {"completion_tokens", reply.usage.completion_tokens}}},
                        {"latency_ms", reply.latency_ms},
                        {"from_cache", reply.from_cache}};
    std::string text = reply.text + "\n";
    if (!reply.logprobs.empty() && !globals().quiet) {
      for (const auto& a : reply.logprobs.front().top) {
        char line[256];
        std::snprintf(line, sizeof line, "  %-20s p=%.3f\n", a.token.c_str(), std::exp(a.logprob));
        text += line;
      }
    }
    print_result(j, text);
  });
}

}  // namespace scrim::cli
