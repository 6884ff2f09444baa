// `scrim data import <format>`: convert a public data set's annotations into a manifest.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/data/importers.h"
#include "scrim/data/manifest.h"
#include "scrim/data/manifest_stats.h"

namespace fs = std::filesystem;

namespace scrim::cli {
namespace {

// Adds the --out option and a callback that runs `import`, rebases the paths
// onto the manifest's folder, writes it atomically and prints what was read,
// kept and dropped (one summary line) and the irregularities tolerated.
void finish_import(CLI::App* cmd, const std::string& format, std::function<Manifest(ImportReport*)> import) {
  auto out = std::make_shared<fs::path>();
  cmd->add_option("--out", *out, "Manifest to write (JSON lines)")->required();
  cmd->callback([out, import, format] {
    ImportReport report;
    Manifest m = import(&report);
    fs::path dir = out->parent_path().empty() ? fs::path(".") : out->parent_path();
    relocate_manifest(m, dir);
    write_manifest(*out, m);
    auto stats = manifest_stats(m);
    std::string summary = format + ": " + report.summary_line();
    auto warnings = report.warning_lines();
    nlohmann::json j = {{"manifest", out->string()}, {"stats", stats}, {"summary", summary}, {"warnings", warnings}};
    std::string text = summary + "\n";
    for (const auto& w : warnings) text += "warning: " + w + "\n";
    print_result(j, text + "wrote " + std::to_string(m.samples.size()) + " samples to " + out->string() + "\n" +
                        format_manifest_stats(stats));
  });
}

}  // namespace

void add_data_import_command(CLI::App& data) {
  auto* imp = data.add_subcommand("import", "Convert a public data set's annotations into a scrim manifest");
  imp->require_subcommand(1);

  {
    auto o = std::make_shared<VisprImportOptions>();
    auto* c = imp->add_subcommand("vispr", "VISPR: per-image annotation JSON under train2017/val2017/test2017 folders");
    c->add_option("--annotations", o->annotations, "Folder holding the split folders of JSON files")->required();
    c->add_option("--images", o->images, "Root that image_path is relative to (default: the annotations folder's parent)");
    c->add_option("--attributes", o->attributes, "Attribute ids (default: the 7-attribute subset)")->delimiter(',');
    c->add_flag("--all-attributes", o->all_attributes, "Keep every attribute that appears");
    finish_import(c, "vispr", [o](ImportReport* r) { return import_vispr(*o, r); });
  }
  {
    auto o = std::make_shared<Ucf101ImportOptions>();
    auto* c = imp->add_subcommand("ucf101", "UCF101: classInd.txt, trainlist0N.txt, testlist0N.txt");
    c->add_option("--splits", o->splits_dir, "Folder with classInd.txt and the split lists")->required();
    c->add_option("--videos", o->videos, "Folder holding the class folders of .avi files")->required();
    c->add_option("--split", o->split, "Split number")->capture_default_str()->check(CLI::Range(1, 3));
    finish_import(c, "ucf101", [o](ImportReport* r) { return import_ucf101(*o, r); });
  }
  {
    auto o = std::make_shared<Hmdb51ImportOptions>();
    auto* c = imp->add_subcommand("hmdb51", "HMDB51: <action>_test_splitN.txt (1 train, 2 test, 0 unused)");
    c->add_option("--splits", o->splits_dir, "Folder with the split files")->required();
    c->add_option("--videos", o->videos, "Folder holding <action>/<video>.avi")->required();
    c->add_option("--split", o->split, "Split number")->capture_default_str()->check(CLI::Range(1, 3));
    finish_import(c, "hmdb51", [o](ImportReport* r) { return import_hmdb51(*o, r); });
  }
  {
    auto o = std::make_shared<PaHmdb51ImportOptions>();
    auto* c = imp->add_subcommand("pa-hmdb51", "PA-HMDB51: per-action privacy JSON, mapped to VISPR ids");
    c->add_option("--annotations", o->annotations, "Folder of per-action JSON files")->required();
    c->add_option("--videos", o->videos, "Folder holding <action>/<video>.avi")->required();
    c->add_option("--hmdb-splits", o->hmdb_splits, "HMDB51 split folder (default: every video in split 'test')");
    c->add_option("--split", o->split, "HMDB51 split number")->capture_default_str()->check(CLI::Range(1, 3));
    const std::map<std::string, PaHmdb51ImportOptions::Face> faces = {
        {"complete-partial", PaHmdb51ImportOptions::Face::kCompletePartial},
        {"visible", PaHmdb51ImportOptions::Face::kVisible}};
    c->add_option("--face", o->face,
                  "Face values to VISPR ids: complete-partial (2 -> a9_face_complete, 1 -> a10_face_partial) or "
                  "visible (1 or 2 -> a9_face_complete, no a10)")
        ->transform(CLI::CheckedTransformer(faces, CLI::ignore_case))
        ->default_str("complete-partial");
    finish_import(c, "pa-hmdb51", [o](ImportReport* r) { return import_pa_hmdb51(*o, r); });
  }
  {
    auto o = std::make_shared<OkvqaImportOptions>();
    auto* c = imp->add_subcommand("okvqa", "OK-VQA questions and annotations, optionally with privacy labels");
    c->add_option("--questions", o->questions, "OpenEnded_mscoco_<split>_questions.json")->required();
    c->add_option("--annotations", o->annotations, "mscoco_<split>_annotations.json")->required();
    c->add_option("--coco", o->coco_images, "Folder holding train2014/ and val2014/")->required();
    auto* privacy = c->add_option("--privacy", o->privacy, "OK-VQA privacy annotations (e.g. ../shared/data/okvqa-privacy-annotations.json)");
    c->add_flag("--only-annotated", o->only_annotated, "Keep only images that have privacy annotations (an error when none has)")
        ->needs(privacy);
    c->add_option("--split", o->split, "Split name (default: train for train2014, else test)");
    finish_import(c, "okvqa", [o](ImportReport* r) { return import_okvqa(*o, r); });
  }
  {
    auto o = std::make_shared<FolderImportOptions>();
    auto* c = imp->add_subcommand("folder", "A plain folder of images and videos, without labels");
    c->add_option("FOLDER", o->folder, "Folder to scan recursively")->required();
    c->add_option("--split", o->split, "Split name")->capture_default_str();
    finish_import(c, "folder", [o](ImportReport* r) { return import_folder(*o, r); });
  }
}

}  // namespace scrim::cli
