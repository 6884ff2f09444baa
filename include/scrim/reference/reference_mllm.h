// The reference MLLM: a small VQA network that scrim trains on the synthetic
// benchmark, giving an offline, reproducible black box. It is a stand-in for
// offline work, not a general MLLM. It answers the task questions and the
// privacy questions (identity, name tag, sign), so it can also act as an MLLM
// attacker. Replies carry the log-probs of its top answers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scrim/oracle/oracle.h"

namespace scrim {

struct ReferenceTrainOptions {
  std::vector<std::filesystem::path> manifests;  // e.g. synth actions.jsonl and vqa.jsonl
  std::filesystem::path out;                     // model file to write
  int epochs = 12;
  int batch_images = 16;       // images per step (with all their questions)
  double learning_rate = 3e-4; // higher rates learn the large things only (measured: README)
  uint64_t seed = 1;
  int width = 32;              // capacity: channels of the first block (architecture variant)
  int film_blocks = 2;         // question-modulated residual blocks; 0: the single FiLM projection
  bool word_path = true;       // mean word embedding beside the GRU state
  int zoom = 0;                // zoom glimpse: side of the full-resolution crop read where attention looks (0: off)
  double focal_gamma = 0.0;    // focal-loss exponent; 0: plain cross-entropy
  // Weight of the grounding loss: the first attention glimpse is taught to
  // look where a question's evidence region says the answer is (questions
  // without one add nothing); 0: answers are the only supervision.
  double grounding = 1.0;
  bool augment = true;         // blur, noise, colour jitter, down-sampling
  // Random translation of each training picture by up to this many pixels (of
  // 112) in x and y, evidence regions moved along; 0: none.
  int shift = 0;
  // Continue training this model file (its architecture, vocabulary and
  // answers; the architecture options above are then ignored) with a fresh
  // learning-rate cycle; empty: a new model.
  std::filesystem::path init;
  int max_images = 0;          // 0: every training image
  int frames = 4;              // frames sampled from each video sample
};

struct ReferenceTypeAccuracy {
  std::string question_type;
  int questions = 0;
  double accuracy = 0.0;  // exact match of the normalised answer with the majority human answer
  // Mean share of the first attention glimpse on the evidence region, over the
  // questions that have one; -1 when none has (a uniform map puts the region's
  // share of the picture there).
  double evidence_attention = -1.0;
  // Empty: every question of the type; else the questions on samples with
  // these privacy attribute values, e.g. "a4_gender=0, a9_face_complete=1".
  std::string subgroup;
};

struct ReferenceTrainReport {
  int train_images = 0;  // distinct images (or clips) the questions are about
  int train_questions = 0;
  int grounded_questions = 0;  // training questions with an evidence region
  int answers = 0;
  double seconds = 0.0;
  std::vector<ReferenceTypeAccuracy> test_accuracy;  // on the clean test split
};

class ReferenceMllm : public Oracle {
 public:
  ~ReferenceMllm() override;
  static std::shared_ptr<ReferenceMllm> load(const std::filesystem::path& model_file);

  OracleReply query(const OracleRequest& request) override;
  std::string model_id() const override;

  // Accuracy per question type on a split of the given manifests; with `by`
  // (privacy attribute ids), also per combination of their values, each such
  // row after its type's row (which view of a face is hard to read?).
  std::vector<ReferenceTypeAccuracy> evaluate(const std::vector<std::filesystem::path>& manifests,
                                              const std::string& split, int frames = 4,
                                              const std::vector<std::string>& by = {});

  struct Impl;
  Impl& impl() { return *impl_; }  // white-box access for in-process gradient checks

 private:
  explicit ReferenceMllm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Trains on the "train" split, evaluates on "test", writes options.out atomically.
// `progress(step, total_steps, loss)` is called after every step.
ReferenceTrainReport train_reference_mllm(const ReferenceTrainOptions& options,
                                          const std::function<void(int, int, double)>& progress = {});

}  // namespace scrim
