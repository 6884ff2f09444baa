#include "method/surrogate_prior.h"

#include "reference/reference_whitebox.h"

namespace scrim::method {

torch::Tensor SurrogatePrior::prior(const ProbeSpace& space, size_t b, int64_t row) {
  torch::AutoGradMode grad_on(true);
  auto offset = torch::zeros(space.shape(b)).unsqueeze(0).requires_grad_(true);
  auto images = space.images(b, offset);
  images = images.view({-1, 3, images.size(2), images.size(3)});
  std::vector<std::vector<int64_t>> frames{{}};
  for (int64_t f = 0; f < images.size(0); ++f) frames[0].push_back(f);
  auto losses = reference_answer_losses(*model_, images, {data_.prompts[static_cast<size_t>(row)]},
                                        {data_.answers[static_cast<size_t>(row)]}, frames);
  return torch::autograd::grad({losses.margin.sum()}, {offset})[0][0].detach();
}

}  // namespace scrim::method
