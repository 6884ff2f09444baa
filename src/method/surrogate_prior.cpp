#include "method/surrogate_prior.h"

#include <cmath>
#include <limits>

#include "reference/reference_whitebox.h"

namespace scrim::method {

SurrogatePrior::SurrogatePrior(std::shared_ptr<ReferenceMllm> model, const TrainingSet& data, SurrogatePriorOptions options)
    : model_(std::move(model)), data_(data), options_(options) {
  // Eval mode throughout: normalisation statistics stay those the model was trained with, and
  // its outputs depend on each image alone.
  reference_network(*model_).eval();
  if (online())
    optimizer_ = std::make_unique<torch::optim::Adam>(reference_network(*model_).parameters(), torch::optim::AdamOptions(options_.learning_rate));
}

torch::Tensor SurrogatePrior::prior(const ProbeSpace& space, size_t b, int64_t row) {
  torch::AutoGradMode grad_on(true);
  auto offset = torch::zeros(space.shape(b)).unsqueeze(0).requires_grad_(true);
  auto images = space.images(b, offset);
  images = images.view({-1, 3, images.size(2), images.size(3)});
  std::vector<std::vector<int64_t>> frames{{}};
  for (int64_t f = 0; f < images.size(0); ++f) frames[0].push_back(f);
  auto losses = reference_answer_losses(*model_, images, {data_.prompts[static_cast<size_t>(row)]},
                                        {data_.answers[static_cast<size_t>(row)]}, frames);
  // Only the images' gradient is wanted: the surrogate's own parameter gradients stay untouched.
  return torch::autograd::grad({losses.margin.sum()}, {offset})[0][0].detach();
}

void SurrogatePrior::observe(const ProbeSpace& space, size_t b, int64_t row, const std::vector<torch::Tensor>& directions,
                             const std::vector<double>& differences, double mu) {
  if (!online() || directions.empty()) return;
  const size_t m = std::min(directions.size(), static_cast<size_t>(std::max(1, options_.max_pairs)));
  auto target = torch::tensor(std::vector<double>(differences.begin(), differences.begin() + static_cast<int64_t>(m)), torch::kFloat64)
                    .to(torch::kFloat32);
  if (target.norm().item<double>() <= 0) return;  // no signal (e.g. hard labels that did not flip)
  torch::AutoGradMode grad_on(true);
  std::vector<torch::Tensor> offsets;
  for (size_t k = 0; k < m; ++k) {
    offsets.push_back(mu * directions[k]);
    offsets.push_back(-mu * directions[k]);
  }
  torch::Tensor images;
  {
    torch::NoGradGuard no_grad;  // the anonymizer is not trained here
    images = space.images(b, torch::stack(offsets)).detach().clamp(0, 1);
  }
  const int64_t probes = images.size(0), frames = images.size(1) / 3;
  images = images.reshape({probes * frames, 3, images.size(2), images.size(3)});
  std::vector<std::vector<int64_t>> groups(static_cast<size_t>(probes));
  for (int64_t p = 0; p < probes; ++p)
    for (int64_t f = 0; f < frames; ++f) groups[static_cast<size_t>(p)].push_back(p * frames + f);
  std::vector<std::string> prompts(static_cast<size_t>(probes), data_.prompts[static_cast<size_t>(row)]);
  std::vector<std::string> answers(static_cast<size_t>(probes), data_.answers[static_cast<size_t>(row)]);
  auto margin = reference_answer_losses(*model_, images, prompts, answers, groups).margin.view({static_cast<int64_t>(m), 2});
  auto own = margin.select(1, 0) - margin.select(1, 1);
  auto cosine = (own * target).sum() / (own.norm() * target.norm()).clamp_min(1e-12);
  agreement_sum_ += cosine.item<double>();
  ++agreement_count_;
  optimizer_->zero_grad();
  (1 - cosine).backward();
  optimizer_->step();
}

std::pair<double, int> SurrogatePrior::take_agreement() {
  std::pair<double, int> out{agreement_count_ > 0 ? agreement_sum_ / agreement_count_ : std::numeric_limits<double>::quiet_NaN(),
                             agreement_count_};
  agreement_sum_ = 0;
  agreement_count_ = 0;
  return out;
}

void SurrogatePrior::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive weights, optimizer;
  reference_network(*model_).save(weights);
  archive.write("weights", weights);
  if (optimizer_) {
    optimizer_->save(optimizer);
    archive.write("optimizer", optimizer);
  }
}

void SurrogatePrior::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive weights, optimizer;
  archive.read("weights", weights);
  reference_network(*model_).load(weights);
  reference_network(*model_).eval();
  if (optimizer_) {
    archive.read("optimizer", optimizer);
    optimizer_->load(optimizer);
  }
}

}  // namespace scrim::method
