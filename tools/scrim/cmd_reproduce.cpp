// `scrim reproduce`: the paper's protocol on the published data sets, in one
// command. For each setting whose data roots are given (UCF101 or HMDB51 with
// VISPR or PA-HMDB51 as the privacy set; OK-VQA with its privacy file) it
// imports the data, builds one manifest holding the task samples and the
// privacy-only samples, trains the learned anonymizer, evaluates it beside the
// baselines (utility through the MLLM, retrained attackers) and writes the
// table: table.md, table.json and each setting's report.html. Every piece that
// is done is reused on the next run (docs/commands.md says how to redo one).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "oracle_options.h"
#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/core/progress.h"
#include "scrim/core/sha256.h"
#include "scrim/data/importers.h"
#include "scrim/data/manifest.h"
#include "scrim/data/manifest_merge.h"
#include "scrim/eval/evaluation.h"
#include "scrim/method/trainer.h"
#include "scrim/reference/oracle_factory.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim::cli {
namespace {

struct ReproduceOptions {
  fs::path out;
  // The data roots, as each data set publishes them.
  fs::path ucf101_videos, ucf101_splits;
  fs::path hmdb51_videos, hmdb51_splits;
  int split = 1;  // UCF101 / HMDB51 split number
  fs::path vispr_annotations, vispr_images;
  fs::path pa_hmdb51;  // PA-HMDB51's PrivacyAttributes/ folder (videos and splits: HMDB51's)
  std::string privacy_set;  // vispr | pa-hmdb51; default: vispr when its annotations are given
  fs::path okvqa_questions, okvqa_annotations, coco, okvqa_privacy;
  double okvqa_train_fraction = 0.5;
  // Bounds on the work.
  int max_train = 0, max_test = 0;
  std::vector<std::string> protectors = baseline_protectors();
  std::vector<std::string> attackers = {"small", "resnet18"};
  int attacker_epochs = 8;
  int attacker_seeds = 3;
  int independent_samples = 100;
  TrainOptions train;  // the anonymizer's training options (steps, probes, ...)
};

// One setting of the paper's table.
struct Setting {
  std::string name;         // folder name: ucf101-vispr, hmdb51-pa-hmdb51, okvqa
  std::string task_set;     // ucf101 | hmdb51 | okvqa
  std::string privacy_set;  // vispr | pa-hmdb51 | okvqa
  std::string utility;      // what utility measures
};

std::string short_hash(const std::string& text) { return sha256_hex(text).substr(0, 16); }

std::string file_hash(const fs::path& p) {
  auto bytes = read_file_bytes(p);
  return sha256_hex(bytes.data(), bytes.size()).substr(0, 16);
}

std::optional<json> read_json_if_exists(const fs::path& p) {
  if (!fs::exists(p)) return std::nullopt;
  try {
    return json::parse(read_file_text(p));
  } catch (const json::exception& e) {
    throw Error(p.string() + ": not valid JSON (" + one_line(e.what()) + "); remove it to redo that step");
  }
}

// The queries a training run made from its start: its log's last record says (a run resumed at its last step
// makes no step, so its result has no record); `fallback` when the log has none.
int64_t run_queries(const fs::path& dir, int64_t fallback) {
  std::ifstream log(dir / "train-log.jsonl");
  int64_t queries = fallback;
  for (std::string line; std::getline(log, line);) {
    auto record = json::parse(line, nullptr, false);
    if (record.is_object() && record.contains("queries")) queries = record["queries"].get<int64_t>();
  }
  return queries;
}

class Reproduction {
 public:
  explicit Reproduction(const ReproduceOptions& o) : o_(o) {}

  // The settings the given roots make possible; usage errors for half-given ones.
  std::vector<Setting> settings() const {
    auto both = [](const fs::path& a, const fs::path& b, const char* what) {
      if (a.empty() != b.empty()) throw UsageError(std::string("reproduce: ") + what);
      return !a.empty();
    };
    const bool ucf = both(o_.ucf101_videos, o_.ucf101_splits, "--ucf101-videos and --ucf101-splits go together");
    const bool hmdb = both(o_.hmdb51_videos, o_.hmdb51_splits, "--hmdb51-videos and --hmdb51-splits go together");
    const int okvqa_given = !o_.okvqa_questions.empty() + !o_.okvqa_annotations.empty() + !o_.coco.empty() + !o_.okvqa_privacy.empty();
    if (okvqa_given != 0 && okvqa_given != 4)
      throw UsageError("reproduce: OK-VQA needs all four of --okvqa-questions, --okvqa-annotations, --coco and --okvqa-privacy");
    if (!o_.pa_hmdb51.empty() && !hmdb)
      throw UsageError("reproduce: --pa-hmdb51 needs --hmdb51-videos and --hmdb51-splits (its videos and train/test splits are HMDB51's)");
    std::string privacy = o_.privacy_set;
    if (privacy.empty()) privacy = !o_.vispr_annotations.empty() ? "vispr" : !o_.pa_hmdb51.empty() ? "pa-hmdb51" : "";
    if (privacy == "vispr" && o_.vispr_annotations.empty()) throw UsageError("reproduce: --privacy-set vispr needs --vispr-annotations");
    if (privacy == "pa-hmdb51" && o_.pa_hmdb51.empty()) throw UsageError("reproduce: --privacy-set pa-hmdb51 needs --pa-hmdb51");
    if ((ucf || hmdb) && privacy.empty())
      throw UsageError("reproduce: an action setting needs a privacy set: --vispr-annotations or --pa-hmdb51");
    std::vector<Setting> out;
    if (ucf) out.push_back({"ucf101-" + privacy, "ucf101", privacy, "action top-1"});
    if (hmdb) out.push_back({"hmdb51-" + privacy, "hmdb51", privacy, "action top-1"});
    if (okvqa_given) out.push_back({"okvqa", "okvqa", "okvqa", "VQA accuracy"});
    if (out.empty())
      throw UsageError("reproduce: give the data of at least one setting: --ucf101-videos/--ucf101-splits or --hmdb51-videos/--hmdb51-splits "
                       "with --vispr-annotations or --pa-hmdb51, or the four OK-VQA files");
    return out;
  }

  // The imported manifest of one data set, from out/imports/<name>.jsonl when it is there.
  Manifest import(const std::string& name) {
    const fs::path path = o_.out / "imports" / (name + ".jsonl");
    if (fs::exists(path)) {
      info("reproduce: reusing " + path.string() + " (delete it to import " + name + " again)");
      return read_manifest(path);
    }
    info("reproduce: importing " + name);
    ++made_imports_;
    ImportReport report;
    Manifest m;
    if (name == "ucf101") {
      m = import_ucf101({o_.ucf101_splits, o_.ucf101_videos, o_.split}, &report);
    } else if (name == "hmdb51") {
      m = import_hmdb51({o_.hmdb51_splits, o_.hmdb51_videos, o_.split}, &report);
    } else if (name == "vispr") {
      VisprImportOptions v;
      v.annotations = o_.vispr_annotations;
      v.images = o_.vispr_images;
      m = import_vispr(v, &report);
    } else if (name == "pa-hmdb51") {
      PaHmdb51ImportOptions p;
      p.annotations = o_.pa_hmdb51;
      p.videos = o_.hmdb51_videos;
      p.hmdb_splits = o_.hmdb51_splits;
      p.split = o_.split;
      m = import_pa_hmdb51(p, &report);
    } else {
      m = import_okvqa({o_.okvqa_questions, o_.okvqa_annotations, o_.coco, o_.okvqa_privacy, true, ""}, &report);
    }
    info("reproduce: " + name + ": " + report.summary_line());
    for (const auto& w : report.warning_lines()) info("reproduce: " + name + ": warning: " + w);
    relocate_manifest(m, path.parent_path());
    write_manifest(path, m);
    return m;
  }

  // The setting's manifest: its task samples (no privacy labels) and its privacy-only samples (no task), each part
  // thinned to --max-train / --max-test per split. Rewritten only when its content changes.
  fs::path build_manifest(const Setting& s) {
    const std::map<std::string, int> limits = {{"train", o_.max_train}, {"test", o_.max_test}};
    Manifest tasks, privacy;
    if (s.task_set == "okvqa") {
      Manifest okvqa = import("okvqa");
      // The privacy file annotates val2014 images only: they are split by image into train and test.
      if (okvqa.split("train").empty() && !okvqa.samples.empty())
        split_by_media(okvqa, okvqa.samples.front().split, o_.okvqa_train_fraction, o_.train.seed);
      tasks = task_samples(okvqa);
      privacy = privacy_samples(okvqa, "image-");
    } else {
      tasks = task_samples(import(s.task_set));
      privacy = privacy_samples(import(s.privacy_set), s.privacy_set + "-");
    }
    thin_splits(tasks, limits);
    thin_splits(privacy, limits);
    const fs::path dir = o_.out / s.name;
    Manifest m = merge_manifests({{tasks, s.task_set + " (task samples)"}, {privacy, s.privacy_set + " (privacy-only samples)"}}, dir, s.name);
    for (const char* split : {"train", "test"}) {
      size_t with_task = 0, with_privacy = 0;
      for (const Sample* x : m.split(split)) (x->task.kind != Task::Kind::kNone ? with_task : with_privacy) += 1;
      if (with_task == 0 || with_privacy == 0)
        throw Error("reproduce: " + s.name + ": the '" + split + "' split has " + std::to_string(with_task) + " task samples and " +
                    std::to_string(with_privacy) + " privacy-only samples; it needs both");
    }
    const fs::path path = dir / "data.jsonl";
    const std::string text = serialize_manifest(m);
    if (!fs::exists(path) || read_file_text(path) != text) write_manifest(path, m);
    return path;
  }

  // Trains the setting's anonymizer, or reuses a finished run: out/<setting>/train/reproduce.json records the
  // train split it was trained on and how the run ended; an unfinished run resumes from its checkpoint.
  json train(const Setting& s, const fs::path& manifest, const OracleStack& stack) {
    const fs::path dir = o_.out / s.name / "train", stamp_path = dir / "reproduce.json";
    Manifest m = read_manifest(manifest);
    Manifest train_split = m;
    std::erase_if(train_split.samples, [](const Sample& x) { return x.split != "train"; });
    const std::string data_hash = short_hash(serialize_manifest(train_split));
    TrainOptions t = o_.train;
    t.manifest = manifest;
    t.out = dir;
    t.oracle = stack;
    t.resume = true;  // continues a run that stopped (budget, interruption) from its checkpoint
    json options = to_json(t);  // what the run is, beside its data: every option but the steps, which may grow
    for (const char* volatile_key : {"manifest", "steps", "resume", "out"}) options.erase(volatile_key);
    auto stamp = read_json_if_exists(stamp_path);
    if (stamp && stamp->value("train_data", "") != data_hash)
      throw UsageError("reproduce: " + s.name + ": the training data changed since the run in " + dir.string() +
                       " was started (other data roots or --max-train); delete that folder to train again");
    if (stamp && stamp->contains("options") && (*stamp)["options"] != options) {
      std::string changed;
      for (const auto& [key, value] : options.items())
        if (!(*stamp)["options"].contains(key) || (*stamp)["options"][key] != value) changed += (changed.empty() ? "" : ", ") + key;
      throw UsageError("reproduce: " + s.name + ": the training options changed since the run in " + dir.string() + " was started (" +
                       changed + "); delete that folder to train again");
    }
    if (stamp && stamp->value("stopped", "") == "done" && stamp->value("steps", 0) >= o_.train.steps && fs::exists(dir / "anonymizer.pt")) {
      info("reproduce: " + s.name + ": reusing the trained anonymizer " + (dir / "anonymizer.pt").string() + " (" +
           std::to_string(stamp->value("steps", 0)) + " steps)");
      (*stamp)["reused"] = true;
      (*stamp)["anonymizer"] = (dir / "anonymizer.pt").string();  // where it is now, should the folder have moved
      return *stamp;
    }
    write_file_atomic(stamp_path, json{{"train_data", data_hash}, {"options", options}, {"stopped", "running"}}.dump(2) + "\n");
    info("reproduce: " + s.name + ": training the anonymizer (" + std::to_string(t.steps) + " steps" +
         (fs::exists(dir / "checkpoint.pt") ? ", resuming from its checkpoint" : "") + ")");
    ProgressBar bar("train " + s.name, t.steps, globals().quiet);
    auto r = train_anonymizer(t, [&bar](const json&) { bar.advance(); });
    bar.finish();
    json done = {{"train_data", data_hash}, {"options", options}, {"stopped", r.stopped}, {"steps", r.steps_done},
                 {"queries", run_queries(dir, r.queries)}, {"seconds", r.seconds}, {"anonymizer", r.anonymizer.string()},
                 {"reused", false}};
    write_file_atomic(stamp_path, done.dump(2) + "\n");
    if (r.stopped != "done")
      throw Error("reproduce: " + s.name + ": the query budget was spent after " + std::to_string(r.steps_done) + " of " +
                  std::to_string(t.steps) + " training steps; run again with a larger --max-queries to continue (the run resumes)");
    return done;
  }

  // Evaluates the baselines and the anonymizer, or reuses out/<setting>/eval/results.json when it was made from
  // the same manifest, anonymizer and protocol.
  json evaluate(const Setting& s, const fs::path& manifest, const fs::path& anonymizer, const OracleStack& stack) {
    const fs::path dir = o_.out / s.name / "eval";
    EvalOptions e;
    e.manifest = manifest;
    e.protectors = o_.protectors;
    e.protectors.push_back("anonymizer:" + anonymizer.string());
    e.oracle = stack;
    e.mllm = o_.train.mllm;
    e.out = dir;
    e.attackers = o_.attackers;
    e.attacker_epochs = o_.attacker_epochs;
    e.attacker_seeds = o_.attacker_seeds;
    e.independent_samples = o_.independent_samples;
    e.frames = o_.train.frames;
    e.concurrency = o_.train.concurrency;
    e.seed = o_.train.seed;
    const json key = {{"manifest", file_hash(manifest)}, {"anonymizer", file_hash(anonymizer)}, {"protectors", o_.protectors},
                      {"attackers", e.attackers}, {"attacker_epochs", e.attacker_epochs}, {"attacker_seeds", e.attacker_seeds},
                      {"independent_samples", e.independent_samples}, {"frames", e.frames}, {"seed", e.seed}, {"mllm", e.mllm}};
    auto stamp = read_json_if_exists(dir / "reproduce.json");
    auto results = read_json_if_exists(dir / "results.json");
    if (stamp && results && *stamp == key) {
      info("reproduce: " + s.name + ": reusing the evaluation " + (dir / "results.json").string());
      ++reused_evaluations_;
      return *results;
    }
    info("reproduce: " + s.name + ": evaluating " + std::to_string(e.protectors.size()) + " protectors");
    json r = run_evaluation(e, [&s](const std::string& stage) { info("reproduce: " + s.name + ": eval: " + stage); });
    write_file_atomic(dir / "results.json", r.dump(2) + "\n");
    write_file_atomic(dir / "report.html", render_html_report(r));
    write_file_atomic(dir / "reproduce.json", key.dump(2) + "\n");
    return r;
  }

  int made_imports() const { return made_imports_; }
  int reused_evaluations() const { return reused_evaluations_; }

 private:
  const ReproduceOptions& o_;
  int made_imports_ = 0, reused_evaluations_ = 0;
};

std::string fixed(double v, int decimals = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One table row per protector: utility, the attackers' cMAP (with its spread over seeds), the floor and the leakage.
// `baselines` names the rows before the anonymizer's, as the user gave them.
json table_rows(const json& results, const std::vector<std::string>& baselines) {
  json rows = json::array();
  const auto& ps = results["protectors"];
  for (size_t i = 0; i < ps.size(); ++i) {
    const json& p = ps[i];
    json row = {{"protector", i < baselines.size() ? baselines[i] : std::string("learned anonymizer")},
                {"spec", p["protector"]},
                {"utility", p["utility"]},
                {"cmap", p["cmap"]},
                {"cmap_floor", results.value("cmap_floor", 0.0)},
                {"queries", p.value("queries", int64_t{0})}};
    for (const char* k : {"cmap_sd", "leakage"})
      if (p.contains(k)) row[k] = p[k];
    rows.push_back(row);
  }
  return rows;
}

std::string markdown_table(const json& table) {
  std::string md = "# The paper's table, reproduced\n\n";
  md += "MLLM: `" + table.value("mllm", std::string()) + "`. Utility through the MLLM on the test split; cMAP of attackers retrained on the "
        "protected train split (mean over " + std::to_string(table.value("attacker_seeds", 1)) +
        " attacker seed(s) of the worst architecture's cMAP; sd over seeds); floor: an attacker that reads nothing; leakage = (cMAP - floor) / "
        "(cMAP of raw - floor).\n\n";
  md += "| setting | protector | utility | metric | cMAP | sd | floor | leakage |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : table["settings"])
    for (const auto& r : s["rows"])
      md += "| " + s["setting"].get<std::string>() + " | " + r["protector"].get<std::string>() + " | " + fixed(r["utility"]) + " | " +
            s["utility_metric"].get<std::string>() + " | " + fixed(r["cmap"]) + " | " + (r.contains("cmap_sd") ? fixed(r["cmap_sd"]) : "—") +
            " | " + fixed(r["cmap_floor"]) + " | " + (r.contains("leakage") ? fixed(r["leakage"]) : "—") + " |\n";
  return md;
}

std::string text_table(const json& table) {
  std::string out;
  char line[512];
  for (const auto& s : table["settings"]) {
    std::snprintf(line, sizeof line, "%s (%s; cMAP floor %.3f; %d train, %d test samples)\n", s["setting"].get<std::string>().c_str(),
                  s["utility_metric"].get<std::string>().c_str(), s["cmap_floor"].get<double>(), s["train_samples"].get<int>(),
                  s["test_samples"].get<int>());
    out += line;
    out += "  protector                         utility   cMAP      sd  leakage\n";
    for (const auto& r : s["rows"]) {
      std::snprintf(line, sizeof line, "  %-32s  %6.3f  %6.3f  %6s  %7s\n", r["protector"].get<std::string>().c_str(), r["utility"].get<double>(),
                    r["cmap"].get<double>(), r.contains("cmap_sd") ? fixed(r["cmap_sd"]).c_str() : "—",
                    r.contains("leakage") ? fixed(r["leakage"]).c_str() : "—");
      out += line;
    }
  }
  return out;
}

}  // namespace

void add_reproduce_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("reproduce",
                                 "The paper's protocol on the published data: import, train the anonymizer, evaluate it and the "
                                 "baselines, write the table (resumable)");
  auto o = std::make_shared<ReproduceOptions>();
  auto oracle = add_oracle_options(cmd);
  cmd->add_option("--out", o->out, "Folder for everything (imports, one folder per setting, table.md, table.json)")->required();
  cmd->add_option("--ucf101-videos", o->ucf101_videos, "UCF101: the folder of class folders of .avi files");
  cmd->add_option("--ucf101-splits", o->ucf101_splits, "UCF101: the folder with classInd.txt, trainlist0N.txt, testlist0N.txt");
  cmd->add_option("--hmdb51-videos", o->hmdb51_videos, "HMDB51: the folder holding <action>/<video>.avi");
  cmd->add_option("--hmdb51-splits", o->hmdb51_splits, "HMDB51: the folder of <action>_test_splitN.txt files");
  cmd->add_option("--split", o->split, "UCF101 / HMDB51 split number")->capture_default_str()->check(CLI::Range(1, 3));
  cmd->add_option("--vispr-annotations", o->vispr_annotations, "VISPR: the folder of train2017/ val2017/ test2017/ annotation files");
  cmd->add_option("--vispr-images", o->vispr_images, "VISPR: the root image_path is relative to (default: the annotations folder's parent)");
  cmd->add_option("--pa-hmdb51", o->pa_hmdb51, "PA-HMDB51: its PrivacyAttributes/ folder (videos and splits from --hmdb51-*)");
  cmd->add_option("--privacy-set", o->privacy_set, "The action settings' privacy set: vispr or pa-hmdb51 (default: vispr when given)")
      ->check(CLI::IsMember({"vispr", "pa-hmdb51"}));
  cmd->add_option("--okvqa-questions", o->okvqa_questions, "OK-VQA: OpenEnded_mscoco_val2014_questions.json");
  cmd->add_option("--okvqa-annotations", o->okvqa_annotations, "OK-VQA: mscoco_val2014_annotations.json");
  cmd->add_option("--coco", o->coco, "COCO: the folder holding val2014/");
  cmd->add_option("--okvqa-privacy", o->okvqa_privacy, "The OK-VQA privacy annotations (e.g. ../shared/data/okvqa-privacy-annotations.json)");
  cmd->add_option("--okvqa-train-fraction", o->okvqa_train_fraction, "OK-VQA: the share of the annotated images that train (split by image)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-train", o->max_train, "At most this many task and this many privacy samples in each setting's train split (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-test", o->max_test, "The same for the test split (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--protector", o->protectors, "Baseline protectors evaluated beside the learned anonymizer")->capture_default_str();
  cmd->add_option("--attackers", o->attackers, "Attacker architectures")->delimiter(',')->capture_default_str();
  cmd->add_option("--attacker-epochs", o->attacker_epochs, "Attacker epochs (every one runs; the final networks are tested)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--attacker-seeds", o->attacker_seeds, "Retrain each attacker with this many seeds (cMAP: the mean, with its sd)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--independent-samples", o->independent_samples, "Test images for the OCR and face-detector attackers")->capture_default_str();
  // The anonymizer's training: the options of `scrim train` a reproduction sets most often.
  TrainOptions& t = o->train;
  cmd->add_option("--steps", t.steps, "Adversarial training steps per setting")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--probes", t.probes, "Probe pairs per sample (q)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch", t.batch, "Samples per training step")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--anonymizer", t.anonymizer, "unet, bdq or blend (see scrim train --help)")->capture_default_str();
  auto check_pareto = add_pareto_options(cmd, t.pareto, t.preference);
  cmd->add_option("--lr", t.learning_rate, "Anonymizer learning rate")->capture_default_str();
  cmd->add_option("--init-steps", t.init_steps, "Identity-initialisation steps (no queries)")->capture_default_str();
  cmd->add_option("--adversary-warmup", t.adversary_warmup, "Adversary steps before the game (no queries)")->capture_default_str();
  cmd->add_option("--size", t.size, "Working resolution of the anonymizer")->capture_default_str();
  cmd->add_option("--frames", t.frames, "Frames per video sample (training and evaluation)")->capture_default_str();
  cmd->add_flag("--hard-label", t.hard_label, "Use only the answer text, not log-probs");
  cmd->add_option("--seed", t.seed, "Random seed (training, attackers, the OK-VQA split)")->capture_default_str();
  cmd->add_option("--device", t.device, "cpu or cuda (training)")->capture_default_str();
  cmd->callback([o, oracle, check_pareto] {
    check_pareto();
    const auto start = std::chrono::steady_clock::now();
    Reproduction rep(*o);
    const auto settings = rep.settings();
    o->train.mllm = oracle->spec;
    o->train.concurrency = oracle->stack.concurrency;
    OracleStackOptions stack_options = oracle->stack;
    if (stack_options.cache.empty()) stack_options.cache = o->out / "oracle-cache.sqlite";  // a re-run reuses the replies
    // One stack for every setting: --max-queries bounds the whole reproduction.
    OracleStack stack = make_oracle(o->train.mllm, stack_options);
    {
      TrainOptions check = o->train;  // refused options stop before any work
      check.manifest = check.out = o->out;
      check.oracle = stack;
      check_train_options(check);
    }

    json table = {{"mllm", o->train.mllm}, {"attacker_seeds", o->attacker_seeds}, {"settings", json::array()}};
    std::string reuse_lines;
    for (const auto& s : settings) {
      const int imports_before = rep.made_imports();
      const fs::path manifest = rep.build_manifest(s);
      const json trained = rep.train(s, manifest, stack);
      const int evals_before = rep.reused_evaluations();
      const json results = rep.evaluate(s, manifest, trained["anonymizer"].get<std::string>(), stack);
      const fs::path report = o->out / s.name / "eval" / "report.html";
      table["settings"].push_back({{"setting", s.name},
                                   {"task_set", s.task_set},
                                   {"privacy_set", s.privacy_set},
                                   {"utility_metric", s.utility},
                                   {"train_samples", results["train_samples"]},
                                   {"test_samples", results["test_samples"]},
                                   {"cmap_floor", results.value("cmap_floor", 0.0)},
                                   {"training", {{"steps", trained["steps"]}, {"queries", trained["queries"]}, {"seconds", trained["seconds"]}}},
                                   {"report", report.string()},
                                   {"rows", table_rows(results, o->protectors)}});
      reuse_lines += s.name + ": imports " + (rep.made_imports() == imports_before ? "reused" : "made") + ", training " +
                     (trained.value("reused", false) ? "reused" : "done") + ", evaluation " +
                     (rep.reused_evaluations() > evals_before ? "reused" : "done") + "; report: " + report.string() + "\n";
    }
    table["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_file_atomic(o->out / "table.json", table.dump(2) + "\n");
    write_file_atomic(o->out / "table.md", markdown_table(table));
    print_result(table, text_table(table) + reuse_lines + "table: " + (o->out / "table.md").string() + ", " +
                            (o->out / "table.json").string() + "\n");
  });
}

}  // namespace scrim::cli
