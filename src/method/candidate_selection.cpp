#include "method/candidate_selection.h"

#include <cmath>
#include <stdexcept>

#include "scrim/core/paired_difference.h"

namespace scrim::method {

namespace {
double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

void check_comparable(const std::vector<CandidateScore>& scores, const CandidateScore* baseline, double required_lead) {
  if (scores.empty()) throw std::invalid_argument("choose_candidate: no candidate");
  const size_t n = scores.front().utilities.size();
  if (n < 2) throw std::invalid_argument("choose_candidate: at least two questions are needed for a standard error");
  for (const auto& s : scores)
    if (s.utilities.size() != n) throw std::invalid_argument("choose_candidate: every candidate must be scored on the same questions");
  if (!std::isfinite(required_lead)) throw std::invalid_argument("choose_candidate: the required lead must be a finite number");
  if (baseline && baseline->utilities.size() != n) throw std::invalid_argument("choose_candidate: the baseline must be scored on the same questions");
}

bool leads(double gap, double gap_error, double required_lead) { return -gap >= required_lead * gap_error; }
}  // namespace

bool dominates(const CandidateScore& draw, const CandidateScore& baseline, double required_lead) {
  check_comparable({draw}, &baseline, required_lead);
  const auto gap = paired_difference(baseline.utilities, draw.utilities);  // the baseline's lead over the draw
  return leads(gap.mean, gap.standard_error, required_lead) && draw.attacker_loss > baseline.attacker_loss;
}

CandidateChoice choose_candidate(const std::vector<CandidateScore>& scores, const CandidateScore* baseline, double required_lead) {
  check_comparable(scores, baseline, required_lead);
  const size_t k = scores.size();
  CandidateChoice c;
  for (const auto& s : scores) c.utility.push_back(mean_of(s.utilities));
  for (size_t i = 1; i < k; ++i)
    if (c.utility[i] > c.utility[static_cast<size_t>(c.best_utility)]) c.best_utility = static_cast<int>(i);
  const auto& reference = baseline ? baseline->utilities : scores[static_cast<size_t>(c.best_utility)].utilities;
  c.reference_utility = mean_of(reference);
  bool any = false;
  for (size_t i = 0; i < k; ++i) {
    const auto gap = paired_difference(reference, scores[i].utilities);
    c.gap.push_back(gap.mean);
    c.gap_error.push_back(gap.standard_error);
    c.eligible.push_back(baseline ? leads(gap.mean, gap.standard_error, required_lead) : gap.mean <= gap.standard_error);
    any = any || c.eligible.back();
  }
  c.chosen = c.best_utility;
  if (!any) return c;  // none answers as well as the baseline: the one nearest it
  for (size_t i = 0; i < k; ++i) {
    const auto current = static_cast<size_t>(c.chosen);
    if (c.eligible[i] && (!c.eligible[current] || scores[i].attacker_loss > scores[current].attacker_loss)) c.chosen = static_cast<int>(i);
  }
  c.dominates = baseline && scores[static_cast<size_t>(c.chosen)].attacker_loss > baseline->attacker_loss;
  return c;
}

}  // namespace scrim::method
