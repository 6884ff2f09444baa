// Task scorers turn the MLLM's text (and log-probs) into a utility in [0, 1]
// and a loss for the trainer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scrim/data/manifest.h"
#include "scrim/task/oracle_reply.h"

namespace scrim {

struct TaskScore {
  double utility = 0.0;       // hard: 1 correct / 0 wrong (VQA: the soft VQA accuracy)
  double probability = -1.0;  // mass the log-probs put on the right answer; -1 without log-probs
  double loss = 1.0;          // -answer_margin() with log-probs, else 1 - utility
  std::string prediction;     // the normalised answer the scorer read
};

// Probability of `answer` from the first token's top alternatives: the mass of
// the alternatives whose normalised text is a non-empty prefix of the answer
// (multi-token answers are credited through their first token). -1 without log-probs.
double answer_probability(const OracleReply& reply, const std::string& normalized_answer);

// The log-odds margin log p(answer) - log p(best other answer), from the same
// first-token alternatives (an answer missing from the list is bounded by the
// smallest listed log-prob and the unlisted mass; a list that shows no other
// answer, by the unlisted mass). NaN without log-probs. Unlike -log p it does
// not saturate: a confident answer has log p = -3e-6 but a margin of about 13.
double answer_margin(const OracleReply& reply, const std::string& normalized_answer);

class TaskScorer {
 public:
  virtual ~TaskScorer() = default;
  // The prompt sent with the sample's image(s).
  virtual std::string prompt(const Sample& sample, const Manifest& manifest) const = 0;
  virtual TaskScore score(const Sample& sample, const Manifest& manifest, const OracleReply& reply) const = 0;
};

// Action recognition: the prompt lists the label set; the answer is normalised
// (case, punctuation, articles, inflections, synonyms) and matched to one label.
class ClassificationScorer : public TaskScorer {
 public:
  // synonyms: extra "word=label" pairs (e.g. "hopping=jumping").
  explicit ClassificationScorer(std::vector<std::pair<std::string, std::string>> synonyms = {});
  std::string prompt(const Sample& sample, const Manifest& manifest) const override;
  TaskScore score(const Sample& sample, const Manifest& manifest, const OracleReply& reply) const override;
  // The label an answer names, or "" when none or several do.
  std::string match_label(const std::string& answer, const std::vector<std::string>& labels) const;

 private:
  std::vector<std::pair<std::string, std::string>> synonyms_;
};

// VQA: the standard VQA accuracy against the human answers.
class VqaScorer : public TaskScorer {
 public:
  std::string prompt(const Sample& sample, const Manifest& manifest) const override;
  TaskScore score(const Sample& sample, const Manifest& manifest, const OracleReply& reply) const override;
};

// The scorer for a sample's task kind (action -> classification, vqa -> VQA).
std::unique_ptr<TaskScorer> scorer_for(const Task& task);

}  // namespace scrim
