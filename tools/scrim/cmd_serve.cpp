// `scrim serve`: the privacy proxy in front of an OpenAI-compatible MLLM.
#include <cstdio>
#include <memory>
#include <regex>

#include "cli_common.h"
#include "scrim/core/error.h"
#include "scrim/serve/privacy_proxy.h"
#include "signal_wait.h"

namespace scrim::cli {

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ProxyOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible privacy proxy: every image is protected before it is forwarded");
  cmd->add_option("--protector", o->protector, "Protector spec (see scrim protect --list)")->capture_default_str();
  cmd->add_option("--upstream", o->upstream, "Base URL of the MLLM API, e.g. https://api.openai.com/v1")->required();
  cmd->add_option("--listen", *listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--require-key", o->require_key, "Clients must send 'Authorization: Bearer KEY' (the upstream key then goes in X-Upstream-Authorization)");
  cmd->add_flag("--fetch-urls", o->fetch_urls, "Fetch http(s) image URLs and inline them (refused otherwise)");
  cmd->add_option("--allow-host", o->allow_hosts, "Hosts image URLs may be fetched from (default: any)");
  cmd->add_flag("--allow-unprotected-parts", o->allow_unprotected_parts, "Forward file, audio and video parts unchanged (they are refused by default)");
  cmd->add_option("--max-body", o->max_body_bytes, "Largest request body in bytes")->capture_default_str();
  cmd->add_option("--max-images", o->max_images, "Most image parts per request")->capture_default_str();
  cmd->add_option("--max-pixels", o->max_pixels, "Largest image in pixels")->capture_default_str();
  cmd->add_option("--timeout", o->upstream_timeout_s, "Upstream timeout in seconds")->capture_default_str();
  cmd->add_option("--audit-log", o->audit_log, "JSON-lines audit log (hashes and timings; no pixels, text or keys)");
  cmd->add_option("--workers", o->workers, "Request threads (0: 2 per core)")->capture_default_str();
  cmd->callback([o, listen] {
    static const std::regex re(R"(^(.+):([0-9]+)$)");
    std::smatch m;
    if (!std::regex_match(*listen, m, re)) throw UsageError("serve: --listen must be HOST:PORT");
    o->host = m[1].str();
    o->port = std::stoi(m[2].str());
    PrivacyProxy proxy(*o);
    proxy.bind();
    stop_on_signal([&proxy] { proxy.stop(); });
    std::fprintf(stderr, "scrim serve: listening on http://%s:%d/v1 -> %s (protector %s)\n", o->host.c_str(), proxy.port(), o->upstream.c_str(),
                 o->protector.c_str());
    std::fflush(stderr);
    proxy.serve();
  });
}

}  // namespace scrim::cli
