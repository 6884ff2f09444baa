// The learned parameters of a BDQ encoder trained by `scrim train --anonymizer
// bdq`, read from its model file for the `bdq:model=PATH` protector.
#pragma once

#include <filesystem>
#include <vector>

namespace scrim::method {

struct BdqParameters {
  double sigma = 2.0;              // blur, in pixels at the working resolution
  std::vector<double> boundaries;  // sorted bin boundaries in [0, 1]
  int levels() const { return static_cast<int>(boundaries.size()) + 1; }
};

// Throws scrim::Error when the file is missing or holds no BDQ encoder.
BdqParameters read_bdq_parameters(const std::filesystem::path& model_file);

}  // namespace scrim::method
