// The rule that keeps one of several pre-trained draws (method/candidate_selection.h): the least-read
// candidate among those whose utility leads a baseline's by the required paired standard errors, or without
// one, is within a paired standard error of the best one's.
#include "method/candidate_selection.h"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

namespace scrim::method {
namespace {

// The best candidate's utilities on eight questions (VQA's soft accuracy), and another's: the same less a per-question offset.
std::vector<double> best_utilities() { return {0.9, 0.3, 0.6, 0.5, 0.6, 0.6, 0.6, 0.3}; }
std::vector<double> less(std::vector<double> utilities, const std::vector<double>& by) {
  for (size_t i = 0; i < utilities.size(); ++i) utilities[i] -= by[i];
  return utilities;
}

TEST(CandidateSelection, KeepsTheLeastReadCandidateWithinAStandardErrorOfTheBestUtility) {
  std::vector<CandidateScore> s(3);
  s[0] = {best_utilities(), -2.0, 1.0};  // the best utility, read most
  // Worse on some questions, better on others: a mean gap of 0.05 inside its standard error.
  s[1] = {less(best_utilities(), {0.8, -0.6, 0.4, -0.4, 0.5, -0.3, 0.2, -0.2}), -1.0, 1.5};
  // Worse on every question: read least, but its utility is clearly lower.
  s[2] = {less(best_utilities(), {0.3, 0.2, 0.3, 0.4, 0.3, 0.2, 0.3, 0.3}), -3.0, 2.0};
  auto c = choose_candidate(s);
  EXPECT_EQ(c.best_utility, 0);
  EXPECT_EQ(c.chosen, 1);
  EXPECT_EQ(c.eligible, (std::vector<bool>{true, true, false}));
  EXPECT_NEAR(c.gap[1], 0.05, 1e-12);
  EXPECT_GT(c.gap_error[1], c.gap[1]);
  EXPECT_NEAR(c.gap[2], 0.2875, 1e-12);
  EXPECT_LT(c.gap_error[2], c.gap[2]);
  // Alone, the best utility is kept whatever it leaks.
  EXPECT_EQ(choose_candidate({s[0], s[2]}).chosen, 0);
}

// A small gap seen on every question is real: pairing the questions finds it where the per-question spread
// would hide it, and the candidate is not kept however little it leaks. The recorded loss is not read.
TEST(CandidateSelection, PairedQuestionsSeeASmallConsistentGap) {
  std::vector<CandidateScore> s(2);
  s[0] = {best_utilities(), 0.0, 1.0};
  s[1] = {less(best_utilities(), std::vector<double>(8, 0.01)), -5.0, 5.0};
  auto c = choose_candidate(s);
  EXPECT_EQ(c.chosen, 0);
  EXPECT_FALSE(c.eligible[1]);
  EXPECT_NEAR(c.gap_error[1], 0.0, 1e-12);
}

// Held to a baseline, a draw need not match the best draw: the least-read one shown to answer as well as the
// baseline is kept, where the best-draw rule keeps the draw that answers best (typically, the one that hides least).
TEST(CandidateSelection, WithABaselineKeepsTheLeastReadDrawThatLeadsItByTheRequiredStandardErrors) {
  const CandidateScore baseline{less(best_utilities(), std::vector<double>(8, 0.1)), 0.0, 1.2};
  std::vector<CandidateScore> s(4);
  s[0] = {best_utilities(), 0.0, 1.0};  // 0.1 above the baseline on every question, read most
  // 0.1 above it on average, a little more or less on each question: far more than two standard errors.
  s[1] = {less(best_utilities(), {0.0, -0.02, 0.02, 0.0, -0.01, 0.01, 0.0, 0.0}), 0.0, 2.0};
  // 0.0125 above it on average, but as often below as above: inside one standard error.
  s[2] = {less(best_utilities(), {-0.2, 0.3, 0.0, 0.2, -0.1, 0.3, 0.0, 0.2}), 0.0, 3.0};
  s[3] = {less(best_utilities(), std::vector<double>(8, 0.3)), 0.0, 4.0};  // below it on every question
  auto held = choose_candidate(s, &baseline, 2.0);
  EXPECT_EQ(held.chosen, 1);
  EXPECT_EQ(held.eligible, (std::vector<bool>{true, true, false, false}));
  EXPECT_NEAR(held.reference_utility, 0.45, 1e-12);
  EXPECT_NEAR(held.gap[0], -0.1, 1e-12);
  EXPECT_NEAR(held.gap[2], -0.0125, 1e-12);
  EXPECT_GT(held.gap_error[2], 0.0125);
  // The lead is the caller's: "not significantly below the baseline" (-1) keeps the noisy draw, which leads by
  // less than its standard error; so does a point estimate above it (0).
  EXPECT_EQ(choose_candidate(s, &baseline, -1.0).chosen, 2);
  EXPECT_EQ(choose_candidate(s, &baseline, 0.0).chosen, 2);
  EXPECT_EQ(choose_candidate(s, &baseline, -1.0).eligible, (std::vector<bool>{true, true, true, false}));
  // Without a baseline, the best draw is the reference, within a standard error: the draw that answers as well as
  // the best on average is kept, the noisy one is not (0.0875 below it, beyond its standard error of 0.067).
  auto best = choose_candidate(s);
  EXPECT_EQ(best.chosen, 1);
  EXPECT_EQ(best.eligible, (std::vector<bool>{true, true, false, false}));
  // None answers as well as a stronger baseline: the one nearest it is kept.
  const CandidateScore strong{less(best_utilities(), std::vector<double>(8, -0.2)), 0.0, 0.5};
  auto none = choose_candidate(s, &strong, 2.0);
  EXPECT_EQ(none.chosen, 0);
  EXPECT_EQ(none.eligible, (std::vector<bool>{false, false, false, false}));
}

// A draw beats the baseline when it leads it by the required standard errors and its attacker reads less; the
// kept draw records whether it does (the run stops drawing at the first that does).
TEST(CandidateSelection, ADrawDominatesTheBaselineWhenItLeadsItAndIsReadLess) {
  const CandidateScore baseline{less(best_utilities(), std::vector<double>(8, 0.1)), 0.0, 1.5};
  const CandidateScore ahead_read_more{best_utilities(), 0.0, 1.0};
  const CandidateScore ahead_read_less{best_utilities(), 0.0, 2.0};
  const CandidateScore noisy_read_less{less(best_utilities(), {-0.2, 0.3, 0.0, 0.2, -0.1, 0.3, 0.0, 0.2}), 0.0, 2.0};
  EXPECT_FALSE(dominates(ahead_read_more, baseline, 2.0));
  EXPECT_TRUE(dominates(ahead_read_less, baseline, 2.0));
  EXPECT_FALSE(dominates(noisy_read_less, baseline, 2.0));  // 0.0125 ahead: inside its standard error
  EXPECT_TRUE(dominates(noisy_read_less, baseline, 0.0));
  EXPECT_TRUE(choose_candidate({ahead_read_more, ahead_read_less}, &baseline).dominates);
  EXPECT_FALSE(choose_candidate({ahead_read_more, noisy_read_less}, &baseline).dominates);  // keeps the first: read more than the baseline
  EXPECT_FALSE(choose_candidate({ahead_read_less}).dominates);                              // no baseline, nothing to beat
}

TEST(CandidateSelection, RefusesScoresItCannotCompare) {
  EXPECT_THROW(choose_candidate({}), std::invalid_argument);
  EXPECT_THROW(choose_candidate({CandidateScore{{1.0}, 1, 1}}), std::invalid_argument);  // one question: no standard error
  EXPECT_THROW(choose_candidate({CandidateScore{{1.0, 0.0}, 1, 1}, CandidateScore{{1.0, 0.0, 0.3}, 1, 1}}), std::invalid_argument);
  const CandidateScore baseline{{1.0, 0.0, 0.3}, 1, 1};
  EXPECT_THROW(choose_candidate({CandidateScore{{1.0, 0.0}, 1, 1}}, &baseline), std::invalid_argument);
  const CandidateScore paired{{1.0, 0.0}, 1, 1};
  EXPECT_THROW(choose_candidate({paired}, &paired, std::nan("")), std::invalid_argument);
  EXPECT_THROW(dominates(paired, baseline), std::invalid_argument);
}

}  // namespace
}  // namespace scrim::method
