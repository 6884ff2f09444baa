// A reference model fitted to a few pictures of the tiny synthetic set (reference_fixture.h), for tests whose model
// must read the picture: the tiny reference, trained two epochs, hardly does.
#pragma once

#include <filesystem>

#include "scrim/reference/reference_mllm.h"

namespace scrim::testing {

// Fitted to the first 16 training pictures of `manifest` (80 epochs, no augmentation); written to `out`.
inline std::filesystem::path fitted_reference(const std::filesystem::path& manifest, const std::filesystem::path& out) {
  ReferenceTrainOptions fit;
  fit.manifests = {manifest};
  fit.max_images = 16;
  fit.epochs = 80;
  fit.learning_rate = 3e-3;
  fit.grounding = 0;
  fit.augment = false;
  fit.out = out;
  train_reference_mllm(fit);
  return out;
}

}  // namespace scrim::testing
