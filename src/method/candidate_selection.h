// Choosing one of several pre-trained anonymizers with the black box's answers (`scrim train
// --candidates K`). The pre-training places the hidden region without a query (local attackers and,
// with --pretrain-surrogate, a local model), and its draws land on different sides of the baselines
// (docs/results.md, "a sixth look"); a few thousand black-box answers on training questions say
// which draw the black box answers best through, where the gradient game spent as many queries moving
// the region onto the shirt. The rule, in the order of the target: keep the candidates whose
// utility (the task's own score: right or wrong, VQA's soft accuracy) is not below a reference's by more
// than one paired standard error (the same questions for every candidate, so the difference's own noise
// decides), then take the one a freshly trained attacker reads least on held-out training pictures. The
// reference is a baseline protector scored the same way (the draws must answer as well as it), or else the
// best draw, which on the VQA questions kept a draw that hides almost nothing: a few questions of 2,000 are
// a significant loss there. Not the margin loss either: it also counts the confidence of right answers,
// which any hidden pixel lowers (both measured: docs/results.md, "a seventh look"). Zeroth-order selection
// in the sense of random search (Bergstra and Bengio, JMLR 2012): the black box is read through its answers only.
#pragma once

#include <vector>

namespace scrim::method {

struct CandidateScore {
  std::vector<double> utilities;  // the black box's utility per question: the same questions, in the same order, for every candidate
  double utility_loss = 0;        // the mean utility loss (the margin) on those questions: recorded, not read by the rule
  double attacker_loss = 0;       // a fresh attacker's supervised loss on held-out pictures (higher: its output leaks less)
};

struct CandidateChoice {
  int chosen = 0;
  int best_utility = 0;            // the candidate with the highest mean utility
  double reference_utility = 0;    // the reference's mean utility (the baseline's, or the best candidate's)
  std::vector<double> utility;     // per candidate, the mean
  std::vector<double> gap;         // the reference's mean paired utility lead over it (0 for the best without a baseline)
  std::vector<double> gap_error;   // that difference's standard error
  std::vector<bool> eligible;      // gap <= gap_error
};

// `baseline`: the reference the candidates are held to (null: the best candidate); when no candidate is
// eligible, the best utility is kept. Throws std::invalid_argument for no candidate, fewer than two questions,
// or scores on different numbers of questions.
CandidateChoice choose_candidate(const std::vector<CandidateScore>& scores, const CandidateScore* baseline = nullptr);

}  // namespace scrim::method
