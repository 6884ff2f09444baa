// `scrim reference serve`: the reference MLLM behind the OpenAI chat-completions and Responses APIs.
#include <memory>

#include "cli_common.h"
#include "scrim/reference/reference_mllm.h"
#include "scrim/serve/oracle_server.h"
#include "signal_wait.h"

namespace scrim::cli {

void add_reference_serve_command(CLI::App& ref) {
  auto model = std::make_shared<std::string>();
  auto opts = std::make_shared<OracleServerOptions>();
  auto* cmd = ref.add_subcommand("serve", "Serve a reference model over the OpenAI chat-completions and Responses APIs");
  cmd->add_option("--model", *model, "Model file")->required();
  cmd->add_option("--host", opts->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "Port (0: any free port, printed on stderr)")->capture_default_str();
  cmd->add_option("--name", opts->model_name, "Model name reported by /v1/models (default: reference:<file stem>)");
  cmd->callback([model, opts] {
    auto oracle = ReferenceMllm::load(*model);
    OracleServer server(oracle, *opts);
    server.bind();
    stop_on_signal([&server] { server.stop(); });
    std::fprintf(stderr, "scrim reference serve: listening on http://%s:%d/v1 (model %s)\n", opts->host.c_str(),
                 server.port(), oracle->model_id().c_str());
    std::fflush(stderr);
    server.serve();
  });
}

}  // namespace scrim::cli
