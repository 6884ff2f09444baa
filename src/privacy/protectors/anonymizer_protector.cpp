#include <torch/torch.h>

#include "method/anonymizer_model.h"
#include "privacy/protectors/protectors.h"
#include "scrim/core/error.h"
#include "scrim/media/tensor_image.h"

namespace scrim::protectors {
namespace {

// The trained anonymizer f_A (scrim train; a U-Net or a learned BDQ encoder):
// any image size in, the same size out; the network runs at its working resolution.
class AnonymizerProtector : public Protector {
 public:
  explicit AnonymizerProtector(const ProtectorSpec& s) : path_(s.positional) {
    if (path_.empty()) throw UsageError("anonymizer: give the model file, as in anonymizer:runs/a/anonymizer.pt");
    model_ = method::read_anonymizer(path_);
  }
  cv::Mat protect(const cv::Mat& bgr) const override {
    torch::NoGradGuard no_grad;
    auto y = method::apply_anonymizer(model_, image_to_tensor(bgr).unsqueeze(0));
    return tensor_to_image(y[0]);
  }
  std::string spec() const override { return "anonymizer:" + path_; }

 private:
  std::string path_;
  method::AnonymizerModel model_;
};

}  // namespace

std::unique_ptr<Protector> make_anonymizer(const ProtectorSpec& spec) { return std::make_unique<AnonymizerProtector>(spec); }

}  // namespace scrim::protectors
