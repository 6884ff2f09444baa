// `scrim eval-real`: protectors against real detectors on the real photos.
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/core/fs_util.h"
#include "scrim/eval/real_photos.h"

namespace scrim::cli {

void add_eval_real_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval-real", "Face-detector recall, OCR recall and people-detector recall on real photos, before and after protection");
  auto o = std::make_shared<RealEvalOptions>();
  o->realdata = "../shared/realdata";
  auto out = std::make_shared<std::filesystem::path>();
  cmd->add_option("--protector", o->protectors, "Protector spec(s); include raw for the 'before' row")->required()->expected(1, -1);
  cmd->add_option("--realdata", o->realdata, "Folder of real photos with ground truth")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Images per folder (0: all)")->capture_default_str();
  cmd->add_option("--out", *out, "Also write results.json here");
  cmd->callback([o, out] {
    auto results = run_real_evaluation(*o, [](const std::string& s) { info("eval-real: " + s); });
    if (!out->empty()) write_file_atomic(*out / "real-results.json", results.dump(2) + "\n");
    print_result(results, format_real_evaluation(results));
  });
}

}  // namespace scrim::cli
