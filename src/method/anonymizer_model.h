// Reading, writing and applying a trained anonymizer f_A. A model file is a
// LibTorch archive holding the network under "anonymizer" and its
// configuration under "anonymizer_config"; the trainer's checkpoints hold the
// same two entries, so either can be used as `anonymizer:PATH`.
// Private header: LibTorch inside.
#pragma once

#include <filesystem>

#include <torch/torch.h>

#include "nets/anonymizer_net.h"

namespace scrim::method {

void write_anonymizer(torch::serialize::OutputArchive& archive, const nets::AnonymizerNet& net);
// Throws scrim::Error naming the file when it is missing or not an anonymizer.
nets::AnonymizerNet read_anonymizer(const std::filesystem::path& file);
nets::AnonymizerNet read_anonymizer(torch::serialize::InputArchive& archive, const std::string& name_for_errors);

// Protects images of any size: resized to the working resolution, passed
// through f_A, resized back. images: [N, 3, H, W] in [0, 1].
torch::Tensor apply_anonymizer(nets::AnonymizerNet& net, const torch::Tensor& images);

}  // namespace scrim::method
