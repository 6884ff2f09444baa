// Choosing one of several pre-trained anonymizers with the black box's answers (`scrim train
// --candidates K`). The pre-training places the hidden region without a query (local attackers and,
// with --pretrain-surrogate, a local model), and its draws land on different sides of the baselines
// (docs/results.md, "a seventh look"); a few thousand black-box answers on training questions say
// which draw the black box answers best through, where the gradient game spent as many queries moving
// the region onto the shirt. The rule, in the order of the target: keep the candidates whose
// utility (the task's own score: right or wrong, VQA's soft accuracy) is within one paired standard error
// of the best one's (the same questions for every candidate, so the difference's own noise decides), then
// take the one a freshly trained attacker reads least on held-out training pictures. Not the margin loss:
// it also counts the confidence of right answers, which any hidden pixel lowers, so it ranks first the
// draw that hides least (measured: docs/results.md, "a seventh look"). Zeroth-order selection in the sense
// of random search (Bergstra and Bengio, JMLR 2012): the black box is read through its answers only.
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
  std::vector<double> utility;     // per candidate, the mean
  std::vector<double> gap;         // the best one's mean paired utility lead over it (0 for itself)
  std::vector<double> gap_error;   // that difference's standard error
  std::vector<bool> eligible;      // gap <= gap_error
};

// Throws std::invalid_argument for no candidate, fewer than two questions, or candidates scored on different numbers of questions.
CandidateChoice choose_candidate(const std::vector<CandidateScore>& scores);

}  // namespace scrim::method
