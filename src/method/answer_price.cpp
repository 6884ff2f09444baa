#include "method/answer_price.h"

#include <map>
#include <string>

#include "reference/reference_whitebox.h"

namespace scrim::method {

std::vector<std::vector<int64_t>> questions_on_each_picture(const TrainingSet& set) {
  std::map<std::string, std::vector<int64_t>> by_media;
  std::vector<std::string> keys;
  for (size_t r = 0; r < set.size(); ++r) {
    const auto& m = set.samples[r]->media;
    std::string key = m.video;
    for (const auto& image : m.images) key += "\n" + image;
    for (int f : m.frames) key += "\n#" + std::to_string(f);
    by_media[key].push_back(static_cast<int64_t>(r));
    keys.push_back(std::move(key));
  }
  std::vector<std::vector<int64_t>> out;
  for (const auto& key : keys) out.push_back(by_media[key]);
  return out;
}

torch::Tensor picture_answer_loss(ReferenceMllm& model, const TrainingSet& set, const torch::Tensor& pictures,
                                  const std::vector<int64_t>& rows, const std::vector<std::vector<int64_t>>& questions,
                                  double margin_cap) {
  std::vector<int64_t> asked, owner;
  std::vector<double> weight;
  std::vector<std::string> prompts, answers;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& on_picture = questions[static_cast<size_t>(rows[i])];
    for (auto q : on_picture) {
      asked.push_back(q);
      owner.push_back(static_cast<int64_t>(i));
      weight.push_back(1.0 / static_cast<double>(on_picture.size()));
      prompts.push_back(set.prompts[static_cast<size_t>(q)]);
      answers.push_back(set.answers[static_cast<size_t>(q)]);
    }
  }
  torch::NoGradGuard no_grad;
  std::vector<std::vector<int64_t>> groups;
  auto frames = set.stack(asked, &groups);
  const auto on = torch::tensor(owner, torch::kLong);  // each question's middle frame is the picture it is asked on
  frames = frames.index_copy(0, torch::tensor(middle_frame_rows(groups), torch::kLong), pictures.detach().cpu().index_select(0, on));
  auto loss = reference_answer_losses(model, frames, prompts, answers, groups).margin;
  if (margin_cap > 0) loss = loss.clamp_min(-margin_cap);
  return torch::zeros({static_cast<int64_t>(rows.size())}, loss.options())
      .index_add(0, on, loss * torch::tensor(weight, loss.options()))
      .to(pictures.device());
}

}  // namespace scrim::method
