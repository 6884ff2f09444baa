// Choosing one of several pre-trained anonymizers with the black box's answers (`scrim train
// --candidates K`). The pre-training places the hidden region without a query (local attackers and,
// with --pretrain-surrogate, a local model), and its draws land on different sides of the baselines
// (docs/results.md, "a sixth look"); a few thousand black-box answers on training questions say
// which draw the black box answers best through, where the gradient game spent as many queries moving
// the region onto the shirt. The rule, in the order of the target: keep the candidates whose
// utility (the task's own score: right or wrong, VQA's soft accuracy) is shown to be as good as a
// reference's on the same questions (paired, so the difference's own noise decides), then take the one a
// freshly trained attacker reads least on held-out training pictures. The reference is a baseline protector
// scored the same way, which a draw must lead by `required_lead` paired standard errors (a lower confidence
// bound above it): "not significantly below" the baseline, the first rule, kept draws that answered 1.5-3
// questions in 1,000 above it through the training black box and 2-3 in 1,000 below it through the held-out
// evaluator (docs/results.md, "an eighth look").
// Without a baseline, the reference is the best draw and a candidate must be within one standard error of
// it; that kept a draw hiding almost nothing on the VQA questions: a few questions of 2,000 are a
// significant loss there. Not the margin loss either: it also counts the confidence of right answers,
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
  std::vector<bool> eligible;      // with a baseline: -gap >= required_lead * gap_error; without: gap <= gap_error
  bool dominates = false;          // with a baseline: the chosen one is eligible and its attacker reads less than the baseline's
};

// Whether `draw` beats `baseline` on both axes of the target, as the training side sees them: its utility leads
// by `required_lead` paired standard errors and the fresh attacker's held-out loss on its output is higher.
// `scrim train --candidates K --candidate-baseline SPEC` stops drawing at the first such draw. Throws
// std::invalid_argument as choose_candidate does.
bool dominates(const CandidateScore& draw, const CandidateScore& baseline, double required_lead = 2.0);

// `baseline`: the reference the candidates are held to, by `required_lead` paired standard errors (null: the best
// candidate, by one standard error below it); when no candidate is eligible, the best utility is kept. Throws
// std::invalid_argument for no candidate, fewer than two questions, scores on different numbers of questions,
// or a lead that is not a finite number.
CandidateChoice choose_candidate(const std::vector<CandidateScore>& scores, const CandidateScore* baseline = nullptr,
                                 double required_lead = 2.0);

}  // namespace scrim::method
