#include "method/anonymizer_model.h"

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"

namespace scrim::method {

void write_anonymizer(torch::serialize::OutputArchive& archive, const nets::AnonymizerNet& net) {
  torch::serialize::OutputArchive weights;
  net->save(weights);
  archive.write("anonymizer", weights);
  const auto& o = net->options();
  nlohmann::json cfg = {{"format", "scrim-anonymizer-1"}, {"width", o.width}, {"depth", o.depth}, {"input_size", o.input_size}};
  archive.write("anonymizer_config", c10::IValue(cfg.dump()));
}

nets::AnonymizerNet read_anonymizer(torch::serialize::InputArchive& archive, const std::string& name) {
  c10::IValue v;
  if (!archive.try_read("anonymizer_config", v)) throw Error(name + ": not a scrim anonymizer (no configuration)");
  nets::AnonymizerNetOptions o;
  try {
    auto cfg = nlohmann::json::parse(v.toStringRef());
    if (cfg.value("format", "") != "scrim-anonymizer-1") throw Error(name + ": unknown anonymizer format");
    o.width = cfg.at("width");
    o.depth = cfg.at("depth");
    o.input_size = cfg.at("input_size");
  } catch (const nlohmann::json::exception& e) {
    throw Error(name + ": unreadable anonymizer configuration (" + e.what() + ")");
  }
  nets::AnonymizerNet net(o);
  try {
    torch::serialize::InputArchive weights;
    archive.read("anonymizer", weights);
    net->load(weights);
  } catch (const c10::Error&) {
    throw Error(name + ": anonymizer weights do not match its configuration");
  }
  net->eval();
  return net;
}

nets::AnonymizerNet read_anonymizer(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw Error(file.string() + ": no such anonymizer file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string(), torch::Device(torch::kCPU));
  } catch (const c10::Error&) {
    throw Error(file.string() + ": not a readable model file");
  }
  return read_anonymizer(archive, file.string());
}

torch::Tensor apply_anonymizer(nets::AnonymizerNet& net, const torch::Tensor& images) {
  namespace F = torch::nn::functional;
  auto size = net->options().input_size;
  auto h = images.size(2), w = images.size(3);
  if (h == size && w == size) return net->forward(images);
  auto x = F::interpolate(images, F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kArea));
  auto y = net->forward(x);
  return F::interpolate(y, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false)).clamp(0, 1);
}

}  // namespace scrim::method
