#include "scrim/task/scorer.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "scrim/core/error.h"
#include "scrim/task/answer_normalization.h"

namespace scrim {
namespace {

// With log-probs: minus the log-odds margin, which stays large and smooth where
// -log p sits below float resolution (a confident answer: log p = -3e-6). Without: 1 - utility.
double loss_from(double utility, const OracleReply& reply, const std::string& normalized_answer) {
  return reply.logprobs.empty() ? 1.0 - utility : -answer_margin(reply, normalized_answer);
}

double log_sum_exp(const std::vector<double>& v) {
  double m = *std::max_element(v.begin(), v.end());
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

std::vector<std::string> words_of(const std::string& normalized) {
  std::istringstream in(normalized);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

}  // namespace

double answer_probability(const OracleReply& reply, const std::string& normalized_answer) {
  if (reply.logprobs.empty()) return -1.0;
  const auto& first = reply.logprobs.front();
  std::vector<TokenAlternative> alts = first.top;
  if (alts.empty()) alts.push_back({first.token, first.logprob});
  double p = 0.0;
  for (const auto& a : alts) {
    std::string t = normalize_label_text(a.token);
    if (!t.empty() && normalized_answer.compare(0, t.size(), t) == 0) p += std::exp(a.logprob);
  }
  return std::min(1.0, p);
}

double answer_margin(const OracleReply& reply, const std::string& normalized_answer) {
  if (reply.logprobs.empty()) return std::nan("");
  const auto& first = reply.logprobs.front();
  std::vector<TokenAlternative> alts = first.top;
  if (alts.empty()) alts.push_back({first.token, first.logprob});
  std::vector<double> right, other, all;
  for (const auto& a : alts) {
    std::string t = normalize_label_text(a.token);
    bool match = !t.empty() && normalized_answer.compare(0, t.size(), t) == 0;
    (match ? right : other).push_back(a.logprob);
    all.push_back(a.logprob);
  }
  // The mass outside the list bounds whatever the list does not show; expm1 keeps it exact near 1.
  const double floor = -100.0;
  double unlisted = std::max(floor, std::log(std::max(1e-300, -std::expm1(std::min(0.0, log_sum_exp(all))))));
  double min_listed = *std::min_element(all.begin(), all.end());
  double log_right = right.empty() ? std::min(min_listed, unlisted) : log_sum_exp(right);
  double log_other = other.empty() ? unlisted : *std::max_element(other.begin(), other.end());
  return log_right - log_other;
}

ClassificationScorer::ClassificationScorer(std::vector<std::pair<std::string, std::string>> synonyms)
    : synonyms_(std::move(synonyms)) {}

std::string ClassificationScorer::prompt(const Sample& sample, const Manifest& manifest) const {
  const auto& labels = manifest.labels_of(sample.task);
  std::string list;
  for (size_t i = 0; i < labels.size(); ++i) list += (i ? ", " : "") + labels[i];
  return "What action is the person in the middle performing? Answer with one of: " + list + ".";
}

std::string ClassificationScorer::match_label(const std::string& answer, const std::vector<std::string>& labels) const {
  std::string a = normalize_label_text(answer);
  for (const auto& [word, label] : synonyms_)
    if (normalize_label_text(word) == a) return label;
  for (const auto& l : labels)
    if (normalize_label_text(l) == a) return l;
  // Otherwise: the one label whose (stemmed) words all occur in the answer.
  auto answer_words = words_of(a);
  std::vector<std::string> stems;
  for (const auto& w : answer_words) stems.push_back(crude_stem(w));
  for (const auto& [word, label] : synonyms_)
    if (std::find(stems.begin(), stems.end(), crude_stem(normalize_label_text(word))) != stems.end()) return label;
  std::string found;
  for (const auto& l : labels) {
    auto lw = words_of(normalize_label_text(l));
    bool all = !lw.empty() && std::all_of(lw.begin(), lw.end(), [&](const std::string& w) {
      return std::find(stems.begin(), stems.end(), crude_stem(w)) != stems.end();
    });
    if (all) {
      if (!found.empty()) return "";  // ambiguous
      found = l;
    }
  }
  return found;
}

TaskScore ClassificationScorer::score(const Sample& sample, const Manifest& manifest, const OracleReply& reply) const {
  if (sample.task.kind != Task::Kind::kAction) throw UsageError("ClassificationScorer::score(): sample '" + sample.id + "' is not an action task");
  TaskScore s;
  s.prediction = match_label(reply.text, manifest.labels_of(sample.task));
  s.utility = s.prediction == sample.task.label ? 1.0 : 0.0;
  s.probability = answer_probability(reply, normalize_label_text(sample.task.label));
  s.loss = loss_from(s.utility, reply, normalize_label_text(sample.task.label));
  return s;
}

std::string VqaScorer::prompt(const Sample& sample, const Manifest&) const {
  return sample.task.vqa.question + " Answer with a single word or number.";
}

TaskScore VqaScorer::score(const Sample& sample, const Manifest&, const OracleReply& reply) const {
  if (sample.task.kind != Task::Kind::kVqa) throw UsageError("VqaScorer::score(): sample '" + sample.id + "' is not a VQA task");
  TaskScore s;
  s.prediction = normalize_vqa_answer(reply.text);
  s.utility = vqa_accuracy(reply.text, sample.task.vqa.answers);
  s.probability = answer_probability(reply, normalize_label_text(majority_answer(sample.task.vqa.answers)));
  s.loss = loss_from(s.utility, reply, normalize_label_text(majority_answer(sample.task.vqa.answers)));
  return s;
}

std::unique_ptr<TaskScorer> scorer_for(const Task& task) {
  switch (task.kind) {
    case Task::Kind::kAction: return std::make_unique<ClassificationScorer>();
    case Task::Kind::kVqa: return std::make_unique<VqaScorer>();
    default: throw UsageError("scorer_for(): the sample has no task");
  }
}

}  // namespace scrim
