// Answer normalisation and the standard VQA accuracy (Antol et al., ICCV 2015;
// the official evaluation script's rules: punctuation, periods, number words,
// articles, contractions).
#pragma once

#include <string>
#include <vector>

namespace scrim {

// The official VQA normalisation of one answer.
std::string normalize_vqa_answer(const std::string& answer);

// min(1, #humans that gave the answer / 3), averaged over the 10 leave-one-out
// subsets of the human answers (over all n subsets when there are n != 10).
double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& human_answers);

// The most frequent normalised human answer (ties: the first seen).
std::string majority_answer(const std::vector<std::string>& human_answers);

// Lower-case, punctuation and articles removed, whitespace collapsed: the form
// labels are compared in for classification.
std::string normalize_label_text(const std::string& text);

// A crude English stem: "waving" -> "wav", "waves" -> "wav", "wave" -> "wav".
// Enough to match inflected answers to action labels.
std::string crude_stem(const std::string& word);

}  // namespace scrim
