// `scrim serve`: the privacy proxy in front of an OpenAI-compatible MLLM.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <memory>
#include <cstdlib>
#include <filesystem>

#include "cli_common.h"
#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/serve/privacy_proxy.h"
#include "listen_address.h"
#include "signal_wait.h"

namespace scrim::cli {

namespace {

// 127/8, ::1 or "localhost": only this machine can reach a proxy listening there.
bool is_loopback_host(std::string host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// The key's file: one line, surrounding whitespace dropped.
std::string read_proxy_key(const std::filesystem::path& path) {
  std::string key = read_file_text(path);
  auto first = key.find_first_not_of(" \t\r\n"), last = key.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) throw UsageError("serve: --require-key-file " + path.string() + " is empty");
  return key.substr(first, last - first + 1);
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ProxyOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible privacy proxy: every image is protected before it is forwarded");
  cmd->add_option("--protector", o->protector, "Protector spec (see scrim protect --list)")->capture_default_str();
  cmd->add_option("--upstream", o->upstream, "Base URL of the MLLM API, e.g. https://api.openai.com/v1")->required();
  cmd->add_option("--listen", *listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  auto key_file = std::make_shared<std::filesystem::path>();
  cmd->add_option("--require-key-file", *key_file,
                  "File holding the key clients must send as 'Authorization: Bearer KEY' (the upstream key then goes in X-Upstream-Authorization); "
                  "or set SCRIM_PROXY_KEY. Not taken on the command line, where `ps` shows it");
  cmd->add_flag("--fetch-urls", o->fetch_urls, "Fetch http(s) image URLs and inline them (refused otherwise)");
  cmd->add_option("--allow-host", o->allow_hosts, "Hosts image URLs may be fetched from (default: any public host; needed off loopback)");
  cmd->add_flag("--fetch-allow-private", o->fetch_allow_private, "Also fetch from loopback, private and link-local addresses (refused by default)");
  cmd->add_option("--fetch-port", o->fetch_ports, "Ports image URLs may name (replaces the default 80 and 443)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--fetch-timeout", o->fetch_timeout_s, "Seconds to fetch one image URL, all in")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--fetch-max-bytes", o->max_fetch_bytes, "Largest fetched image in bytes")->capture_default_str();
  cmd->add_option("--allow-unprotected-parts", o->allow_unprotected_parts,
                  "Part types forwarded unchanged, e.g. input_audio,file (refused by default; each one is counted in the audit log)")
      ->delimiter(',');
  cmd->add_option("--max-body", o->max_body_bytes, "Largest request body in bytes")->capture_default_str();
  cmd->add_option("--max-images", o->max_images, "Most image parts per request")->capture_default_str();
  cmd->add_option("--max-pixels", o->max_pixels, "Largest image in pixels")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-request-pixels", o->max_request_pixels, "Most pixels all images of one request may declare together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-requests-per-client", o->max_requests_per_client, "Requests in flight from one client address")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--protect-wait", o->protect_wait_s,
                  "Seconds an image may wait for a protection thread before its request gets a 503 (server_busy)")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  cmd->add_option("--header-timeout", o->header_timeout_s, "Seconds a request's line and headers may take to arrive, in total")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-connections-per-client", o->max_connections_per_client, "Open connections from one client address")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--drain-timeout", o->drain_timeout_s, "Seconds in-flight requests get to finish on SIGTERM")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--timeout", o->upstream_timeout_s, "Upstream timeout in seconds")->capture_default_str();
  cmd->add_option("--audit-log", o->audit_log, "JSON-lines audit log (hashes and timings; no pixels, text or keys)");
  cmd->add_option("--workers", o->workers, "Request threads (0: 2 per core)")->capture_default_str();
  cmd->callback([o, listen, key_file] {
    auto [host, port] = parse_listen_address(*listen, "serve");
    o->host = host;
    o->port = port;
    if (const char* env = std::getenv("SCRIM_PROXY_KEY"); env && *env) o->require_key = env;
    if (!key_file->empty()) o->require_key = read_proxy_key(*key_file);
    if (o->fetch_urls && o->allow_hosts.empty() && !is_loopback_host(o->host))
      throw UsageError("serve: --fetch-urls on " + o->host + " needs --allow-host: anyone who reaches the proxy could make it fetch any URL");
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
