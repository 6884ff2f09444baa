// Privacy attackers: networks trained to read private attributes and identity
// back out of protected images. The evaluation trains fresh ones on the
// protected training split and tests them on the protected test split, in
// every architecture, and reports the worst case (Wu et al., TPAMI 2020;
// SPAct, Dave et al., CVPR 2022).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "scrim/privacy/privacy_metrics.h"

namespace scrim {

// Images with their labels; -1 marks an unknown label.
struct AttackerData {
  std::vector<cv::Mat> images;                // 8-bit BGR, any size
  std::vector<std::vector<int>> attributes;   // [sample][attribute] in {0, 1, -1}
  std::vector<int> identity;                  // class index, or -1 (may be empty: no identity head)
};

struct AttackerOptions {
  std::string arch = "small";   // "small" (4-layer CNN) or "resnet18" (ResNet-18-style, narrow)
  int epochs = 8;               // every one runs; the final network is tested
  int batch = 32;
  double learning_rate = 2e-3;
  double val_fraction = 0.15;   // of the training data, held out to measure each epoch (AttackerEpoch)
  uint64_t seed = 1;
  int input_size = 112;
};

struct AttackerResult {
  std::string arch;
  CmapResult attributes;        // cMAP, mean F1, per-attribute AP on the test data
  double identity_top1 = -1.0;  // -1 without identity labels
  int epochs_run = 0;
  double validation_cmap = -1.0;  // the tested attribute network's cMAP on the validation split (-1: undefined there)
  double seconds = 0.0;
};

// One epoch of one of the attacker's two networks, as measured on the validation split.
struct AttackerEpoch {
  bool identity = false;  // the identity network (else the attribute network)
  int epoch = 0;          // 1-based
  double loss = 0;        // the training loss on the validation split
  double score = -1;      // what it reads there: cMAP (attributes) or top-1 (identity); -1 where undefined
                          // (no positive, no known identity in the split)
};

// The architectures make_attacker knows, smallest first.
const std::vector<std::string>& attacker_architectures();

// Trains one attacker (BCE over the attributes with per-attribute positive
// weights, class-weighted cross-entropy over identities, Adam) for a fixed
// number of epochs and tests the final networks. No epoch is chosen: kept by
// the lowest validation loss, an attacker read a learned anonymizer's output
// below the floor (the weighted loss is lowest early, before the network ranks
// anything); kept by the best validation cMAP, the 150 validation pictures'
// noise chose early epochs that read a face blur 0.02-0.04 less than the final
// ones (docs/results.md, "a ninth look"). `on_epoch` sees each epoch measured
// on the held-out validation split. `attribute_names` names the columns.
AttackerResult train_and_test_attacker(const AttackerData& train, const AttackerData& test,
                                       const std::vector<std::string>& attribute_names, int identities,
                                       const AttackerOptions& options,
                                       const std::function<void(const AttackerEpoch&)>& on_epoch = {});

}  // namespace scrim
