// scrim: keeps private details out of the images and videos sent to multimodal
// LLM services. Entry point: global flags, subcommands, errors -> exit codes.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli_common.h"
#include "scrim/core/error.h"
#include "scrim/core/runtime.h"

namespace {

// The message on one line and at most a few hundred bytes: a hostile input
// quoted in an error must not flood the terminal or the log.
std::string error_line(const char* what) {
  constexpr size_t kMaxBytes = 600;
  std::string line = scrim::one_line(what);
  if (line.size() <= kMaxBytes) return line;
  size_t cut = kMaxBytes;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
  return line.substr(0, cut) + "... (" + std::to_string(line.size()) + " bytes)";
}

// CLI11 reports a misspelt or missing subcommand as "A subcommand is
// required"; name the word it did not know, and the choices, instead.
std::string missing_subcommand_message(const CLI::App& app, int argc, char** argv) {
  const CLI::App* cur = &app;
  std::string path = app.get_name();
  int pos = 0;  // where the deepest subcommand given stands in argv
  for (auto subs = cur->get_subcommands(); !subs.empty(); subs = cur->get_subcommands()) {
    cur = subs.front();
    path += " " + cur->get_name();
    for (int i = pos + 1; i < argc; ++i)
      if (argv[i] == cur->get_name()) {
        pos = i;
        break;
      }
  }
  std::string choices;
  for (const CLI::App* s : cur->get_subcommands([](const CLI::App*) { return true; }))
    choices += (choices.empty() ? "" : ", ") + s->get_name();
  for (int i = pos + 1; i < argc; ++i)
    if (argv[i][0] != '-') return path + ": '" + argv[i] + "' is not one of: " + choices;
  return path + ": a subcommand is required, one of: " + choices;
}

}  // namespace

int main(int argc, char** argv) {
  scrim::reexec_with_thread_environment(argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("scrim"));
  spdlog::set_pattern("%^[%l]%$ %v");
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"scrim: protect the private details in images and videos sent to multimodal LLMs", "scrim"};
  app.set_version_flag("--version", std::string("scrim ") + SCRIM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the subcommand too
  auto& g = scrim::cli::globals();
  app.add_flag("-q,--quiet", g.quiet, "No progress bars or informational messages");
  app.add_flag("--json", g.json, "Print results as JSON on stdout");
  app.add_flag("-v,--verbose", g.verbose, "Debug logging on stderr");
  app.add_option("--threads", g.threads, "LibTorch threads (0: one per core)")->check(CLI::Range(0, scrim::kMaxThreads));
  app.parse_complete_callback([&g] {
    if (g.verbose) spdlog::set_level(spdlog::level::debug);
    scrim::configure_threads(g.threads);
  });

  scrim::cli::add_data_command(app);
  scrim::cli::add_demo_command(app);
  scrim::cli::add_reference_command(app);
  scrim::cli::add_ask_command(app);
  scrim::cli::add_protect_command(app);
  scrim::cli::add_eval_command(app);
  scrim::cli::add_eval_real_command(app);
  scrim::cli::add_serve_command(app);
  scrim::cli::add_train_command(app);
  scrim::cli::add_reproduce_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    std::string what = e.what();
    if (what.rfind("A subcommand", 0) == 0) what = missing_subcommand_message(app, argc, argv);
    std::fprintf(stderr, "scrim: error: %s (run with --help for usage)\n", error_line(what.c_str()).c_str());
    return scrim::kExitUsageError;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "scrim: error: %s (run with --help for usage)\n", error_line(e.what()).c_str());
    return scrim::kExitUsageError;
  } catch (const scrim::UsageError& e) {
    std::fprintf(stderr, "scrim: error: %s\n", error_line(e.what()).c_str());
    return scrim::kExitUsageError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scrim: error: %s\n", error_line(e.what()).c_str());
    return scrim::kExitRuntimeError;
  }
  return scrim::kExitOk;
}
