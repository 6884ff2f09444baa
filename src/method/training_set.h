// A manifest split loaded for the anonymizer's trainer: every sample's frames
// at the working resolution, the prompt and answer the black box is asked, and
// the privacy labels the adversaries learn. Private header: LibTorch inside.
//
// The paper's cross-dataset protocol (UCF101 or HMDB51 for the task, VISPR or
// PA-HMDB51 for privacy) gives the task and the privacy labels on different
// samples: a manifest holding privacy-only samples (labels, no task) loads
// them into `privacy`, which the game's attackers then train on and the
// privacy loss reads.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "scrim/data/manifest.h"
#include "scrim/media/protector.h"
#include "scrim/task/scorer.h"

namespace scrim::method {

struct TrainingSet {
  std::shared_ptr<Manifest> manifest;
  std::vector<const Sample*> samples;
  std::vector<torch::Tensor> frames;     // per sample [T, 3, S, S] float in [0, 1]
  std::vector<std::string> prompts;      // the task prompt per sample
  std::vector<std::string> answers;      // the normalised right answer per sample
  std::vector<std::unique_ptr<TaskScorer>> scorers;
  std::vector<std::string> attributes;   // attribute columns
  torch::Tensor attribute_labels;        // [N, A] float: 1, 0, or -1 (unknown)
  std::map<std::string, int> identity_index;
  torch::Tensor identity_labels;         // [N] long, -1 unknown

  // The privacy side's own samples: every labelled sample of the split (privacy-only
  // ones and labelled task ones) when the split has privacy-only samples; empty
  // otherwise, and the privacy side reads the task batch's labels as before.
  struct PrivacySamples {
    std::vector<const Sample*> samples;
    std::vector<torch::Tensor> frames;  // per sample [T, 3, S, S]
    torch::Tensor attribute_labels;     // [P, A]
    torch::Tensor identity_labels;      // [P]
    size_t size() const { return samples.size(); }
  } privacy;

  size_t size() const { return samples.size(); }
  // Frames of the given samples stacked: [sum T, 3, S, S], and each sample's rows.
  torch::Tensor stack(const std::vector<int64_t>& rows, std::vector<std::vector<int64_t>>* groups = nullptr) const;
};

// Frames of the given samples stacked from `frames` (one [T, 3, S, S] tensor
// per sample): [sum T, 3, S, S], and each sample's rows.
torch::Tensor stack_frames(const std::vector<torch::Tensor>& frames, const std::vector<int64_t>& rows,
                           std::vector<std::vector<int64_t>>* groups = nullptr);
// Each sample's middle frame in such a stack, given its rows (`groups`): the one frame the attackers see, and the one the
// placement search's pictures stand for (as in the evaluation protocol).
std::vector<int64_t> middle_frame_rows(const std::vector<std::vector<int64_t>>& groups);

// Every sample's frames as `protector` outputs them (at the working
// resolution; a sample's frames as one video), in the layout of `frames`.
std::vector<torch::Tensor> protected_frames(const TrainingSet& set, const Protector& protector);
// The same for any samples' frames (one [T, 3, S, S] tensor per sample), e.g. the privacy side's.
std::vector<torch::Tensor> protected_frames(const std::vector<torch::Tensor>& samples, const Protector& protector);

// Loads `split` of the manifest: the samples with a task, at most `limit` (0: all),
// and, when the split has privacy-only samples, every labelled sample into
// `privacy` (at most `limit` too). The attribute columns and identities come from
// the whole manifest, so splits agree.
TrainingSet load_training_set(const std::filesystem::path& manifest, const std::string& split, int size, int frames, int limit);

}  // namespace scrim::method
