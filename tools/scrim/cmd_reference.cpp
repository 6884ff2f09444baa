// `scrim reference`: train, evaluate and serve the reference MLLM.
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/core/progress.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim::cli {
namespace {

std::string accuracy_table(const std::vector<ReferenceTypeAccuracy>& rows) {
  // "on evidence": the share of the first attention glimpse on the region
  // where the answer can be read (blank where the data gives no region).
  // Rows per attribute value (--by) sit indented under their type.
  auto name_of = [](const ReferenceTypeAccuracy& r) { return r.subgroup.empty() ? r.question_type : "    " + r.subgroup; };
  int width = 26;
  for (const auto& r : rows) width = std::max(width, static_cast<int>(name_of(r).size()));
  std::string out = std::string("question type").append(static_cast<size_t>(width) - 12, ' ') + "questions  accuracy  on evidence\n";
  char line[400];
  for (const auto& r : rows) {
    char evidence[32] = "";
    if (r.evidence_attention >= 0) std::snprintf(evidence, sizeof evidence, "%10.1f%%", 100.0 * r.evidence_attention);
    std::snprintf(line, sizeof line, "  %-*s %8d  %7.1f%%  %s\n", width, name_of(r).c_str(), r.questions, 100.0 * r.accuracy, evidence);
    out += line;
  }
  return out;
}

nlohmann::json accuracy_json(const std::vector<ReferenceTypeAccuracy>& rows) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& r : rows) {
    nlohmann::json row = {{"questions", r.questions}, {"accuracy", r.accuracy}};
    if (r.evidence_attention >= 0) row["evidence_attention"] = r.evidence_attention;
    if (r.subgroup.empty()) {
      for (auto& [k, v] : row.items()) j[r.question_type][k] = v;
    } else {
      j[r.question_type]["by"][r.subgroup] = row;
    }
  }
  return j;
}

}  // namespace

void add_reference_serve_command(CLI::App& ref);

void add_reference_command(CLI::App& app) {
  auto* ref = app.add_subcommand("reference", "The reference MLLM: a small offline VQA model (a stand-in, not a general MLLM)");
  ref->require_subcommand(1);

  auto o = std::make_shared<ReferenceTrainOptions>();
  auto* train = ref->add_subcommand("train", "Train the reference MLLM on manifests (train split) and report test accuracy");
  train->add_option("--data", o->manifests, "Manifest(s), e.g. synth/actions.jsonl synth/vqa.jsonl")->required()->expected(1, -1);
  train->add_option("--out", o->out, "Model file to write")->required();
  train->add_option("--epochs", o->epochs, "Passes over the training images")->capture_default_str();
  train->add_option("--batch", o->batch_images, "Images per step")->capture_default_str();
  train->add_option("--lr", o->learning_rate, "Adam learning rate")->capture_default_str();
  train->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  train->add_option("--width", o->width, "Capacity (channels of the first block); another width is another architecture")->capture_default_str();
  train->add_option("--film-blocks", o->film_blocks, "Question-modulated residual blocks (0: one FiLM projection, the first models' head)")->capture_default_str();
  train->add_option("--focal", o->focal_gamma, "Focal-loss exponent gamma (0: plain cross-entropy)")->capture_default_str();
  train->add_option("--zoom", o->zoom,
                    "Side in pixels (of the 112-pixel picture) of the zoom glimpse, a crop read at full resolution where attention looks (0: off)")
      ->capture_default_str();
  train->add_option("--grounding", o->grounding,
                    "Weight of the grounding loss: attention is taught to look at each question's evidence region, where the manifest gives one (0: off)")
      ->capture_default_str();
  train->add_flag("!--no-word-path", o->word_path, "Question encoder without the mean-word-embedding path (the GRU state only, as the first models)");
  train->add_option("--max-images", o->max_images, "Use at most this many training images (0: all)")->capture_default_str();
  train->add_flag("!--no-augment", o->augment, "Train without blur/noise/jitter/down-sampling augmentation");
  train->add_option("--init", o->init, "Continue training this model file (its architecture, vocabulary and answers) with a fresh learning-rate cycle");
  train->add_option("--shift", o->shift, "Move each training picture by up to N pixels (of 112) at random (0: off)")->capture_default_str();
  train->callback([o] {
    ProgressBar bar("train", 1, globals().quiet);
    double loss_sum = 0;
    int loss_n = 0;
    auto report = train_reference_mllm(*o, [&](int step, int total, double loss) {
      if (step == 1) bar.set_total(total);
      bar.advance();
      loss_sum += loss;
      ++loss_n;
      // Without a terminal, a line every tenth of the run keeps logs informative.
      if (!bar.enabled() && (step * 10 / total != (step - 1) * 10 / total || step == total)) {
        char line[128];
        std::snprintf(line, sizeof line, "reference train: step %d/%d, mean loss %.3f", step, total, loss_sum / loss_n);
        info(line);
        loss_sum = 0;
        loss_n = 0;
      }
    });
    bar.finish();
    nlohmann::json j = {{"model", o->out.string()}, {"train_images", report.train_images},
                        {"train_questions", report.train_questions}, {"grounded_questions", report.grounded_questions},
                        {"answers", report.answers}, {"seconds", report.seconds},
                        {"test_accuracy", accuracy_json(report.test_accuracy)}};
    char head[256];
    std::snprintf(head, sizeof head,
                  "wrote %s (%d training images, %d questions, %d with evidence regions, %d answers, %.0f s)\n"
                  "accuracy on the clean test split:\n",
                  o->out.c_str(), report.train_images, report.train_questions, report.grounded_questions, report.answers,
                  report.seconds);
    print_result(j, head + accuracy_table(report.test_accuracy));
  });

  auto model = std::make_shared<std::string>();
  auto data = std::make_shared<std::vector<std::filesystem::path>>();
  auto split = std::make_shared<std::string>("test");
  auto by = std::make_shared<std::vector<std::string>>();
  auto* eval = ref->add_subcommand("eval", "Accuracy of a reference model per question type");
  eval->add_option("--model", *model, "Model file")->required();
  eval->add_option("--data", *data, "Manifest(s)")->required()->expected(1, -1);
  eval->add_option("--split", *split, "Split")->capture_default_str();
  eval->add_option("--by", *by, "Also per value of these privacy attributes, e.g. --by a9_face_complete a4_gender")->expected(1, -1);
  eval->callback([model, data, split, by] {
    auto m = ReferenceMllm::load(*model);
    auto rows = m->evaluate(*data, *split, 4, *by);
    print_result({{"model", *model}, {"split", *split}, {"accuracy", accuracy_json(rows)}}, accuracy_table(rows));
  });

  add_reference_serve_command(*ref);
}

}  // namespace scrim::cli
