// The learnable protector f_A and its model file. Two kinds:
//   unet  the U-Net anonymizer (nets/anonymizer_net.h), the default;
//   bdq   a BDQ encoder with learned blur and quantisation bins (nets/bdq_encoder.h);
//   blend the control-space anonymizer: blend weights over a bank of fixed obfuscations (nets/blend_anonymizer.h).
// A model file is a LibTorch archive holding the network under "anonymizer"
// and its configuration under "anonymizer_config"; the trainer's checkpoints
// hold the same two entries, so either can be used as `anonymizer:PATH`.
// Private header: LibTorch inside.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "nets/blend_anonymizer.h"

namespace scrim::method {

struct AnonymizerModel {
  nlohmann::json config;        // {"format", "kind", "input_size", ...}: enough to rebuild the network
  mutable torch::nn::AnyModule module;  // (mutable: AnyModule::forward is not const) forward(x [N, 3, S, S] in [0, 1]) -> x' of the same shape

  torch::nn::Module& net() const { return *module.ptr(); }
  torch::Tensor forward(const torch::Tensor& x) const { return module.forward(x); }
  int64_t input_size() const { return config.at("input_size").get<int64_t>(); }
};

// A fresh model: kind "unet" (width, depth), "bdq" (levels) or "blend" (width, and
// `blend`'s grid, bank and residual); throws scrim::UsageError.
AnonymizerModel make_anonymizer_model(const std::string& kind, int64_t input_size, int64_t width, int64_t depth, int64_t levels,
                                      const nets::BlendAnonymizerOptions& blend = {});
// The control-space anonymizer inside a model of kind "blend"; nullptr for the other kinds.
nets::BlendAnonymizerImpl* blend_anonymizer(const AnonymizerModel& model);

void write_anonymizer(torch::serialize::OutputArchive& archive, const AnonymizerModel& model);
// Throws scrim::Error naming the file when it is missing or not an anonymizer. The model is in eval mode, on the CPU.
AnonymizerModel read_anonymizer(const std::filesystem::path& file);
AnonymizerModel read_anonymizer(torch::serialize::InputArchive& archive, const std::string& name_for_errors);

// Protects images of any size: resized to the working resolution, passed
// through f_A, resized back; a control-space anonymizer's controls come from the
// resized images and its blend is made at their own size (the pixels it leaves
// are the input's). images: [N, 3, H, W] in [0, 1].
torch::Tensor apply_anonymizer(const AnonymizerModel& model, const torch::Tensor& images);

}  // namespace scrim::method
