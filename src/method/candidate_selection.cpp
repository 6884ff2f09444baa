#include "method/candidate_selection.h"

#include <cmath>
#include <stdexcept>

namespace scrim::method {

namespace {
double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}
}  // namespace

CandidateChoice choose_candidate(const std::vector<CandidateScore>& scores, const CandidateScore* baseline, double required_lead) {
  if (scores.empty()) throw std::invalid_argument("choose_candidate: no candidate");
  const size_t n = scores.front().utilities.size();
  if (n < 2) throw std::invalid_argument("choose_candidate: at least two questions are needed for a standard error");
  for (const auto& s : scores)
    if (s.utilities.size() != n) throw std::invalid_argument("choose_candidate: every candidate must be scored on the same questions");
  if (!std::isfinite(required_lead)) throw std::invalid_argument("choose_candidate: the required lead must be a finite number");
  if (baseline && baseline->utilities.size() != n) throw std::invalid_argument("choose_candidate: the baseline must be scored on the same questions");
  const size_t k = scores.size();
  CandidateChoice c;
  for (const auto& s : scores) c.utility.push_back(mean_of(s.utilities));
  for (size_t i = 1; i < k; ++i)
    if (c.utility[i] > c.utility[static_cast<size_t>(c.best_utility)]) c.best_utility = static_cast<int>(i);
  const auto& reference = baseline ? baseline->utilities : scores[static_cast<size_t>(c.best_utility)].utilities;
  c.reference_utility = mean_of(reference);
  bool any = false;
  for (size_t i = 0; i < k; ++i) {
    double mean = 0, squares = 0;
    for (size_t q = 0; q < n; ++q) mean += reference[q] - scores[i].utilities[q];
    mean /= static_cast<double>(n);
    for (size_t q = 0; q < n; ++q) {
      const double d = reference[q] - scores[i].utilities[q] - mean;
      squares += d * d;
    }
    c.gap.push_back(mean);
    c.gap_error.push_back(std::sqrt(squares / static_cast<double>(n - 1) / static_cast<double>(n)));
    c.eligible.push_back(baseline ? -mean >= required_lead * c.gap_error.back() : mean <= c.gap_error.back());
    any = any || c.eligible.back();
  }
  c.chosen = c.best_utility;
  if (!any) return c;  // none answers as well as the baseline: the one nearest it
  for (size_t i = 0; i < k; ++i) {
    const auto current = static_cast<size_t>(c.chosen);
    if (c.eligible[i] && (!c.eligible[current] || scores[i].attacker_loss > scores[current].attacker_loss)) c.chosen = static_cast<int>(i);
  }
  return c;
}

}  // namespace scrim::method
