#include "method/anonymizer_model.h"

#include "method/bdq_parameters.h"
#include "nets/anonymizer_net.h"
#include "nets/bdq_encoder.h"
#include "scrim/core/error.h"

namespace scrim::method {

namespace {

AnonymizerModel build(const nlohmann::json& cfg) {
  AnonymizerModel m;
  m.config = cfg;
  std::string kind = cfg.value("kind", "unet");
  if (kind == "unet") {
    nets::AnonymizerNetOptions o;
    o.width = cfg.at("width");
    o.depth = cfg.at("depth");
    o.input_size = cfg.at("input_size");
    m.module = torch::nn::AnyModule(nets::AnonymizerNet(o));
  } else if (kind == "bdq") {
    nets::BdqEncoderOptions o;
    o.levels = cfg.at("levels");
    o.input_size = cfg.at("input_size");
    m.module = torch::nn::AnyModule(nets::BdqEncoder(o));
  } else if (kind == "blend") {
    nets::BlendAnonymizerOptions o;
    o.grid = cfg.at("grid");
    o.bank = cfg.at("bank").get<std::string>();
    o.residual = cfg.at("residual").get<bool>();
    o.width = cfg.at("width");
    o.context = cfg.value("context", 0);  // anonymizers saved before the context layers have none,
    o.budget = cfg.value("budget", 0.0);  // nor a budget
    o.stride = cfg.value("stride", 8);    // nor a choice of stride,
    o.upsample = nets::parse_upsample(cfg.value("upsample", std::string("bilinear")));  // nor of up-sampler,
    o.shape = nets::parse_hide_shape(cfg.value("shape", std::string("blob")));          // nor of region shape,
    o.edge = nets::parse_edge(cfg.value("edge", std::string("soft")));                  // nor a hard edge
    o.input_size = cfg.at("input_size");
    m.module = torch::nn::AnyModule(nets::BlendAnonymizer(o));
  } else {
    throw UsageError("unknown anonymizer kind '" + kind + "' (use unet, bdq or blend)");
  }
  return m;
}

}  // namespace

AnonymizerModel make_anonymizer_model(const std::string& kind, int64_t input_size, int64_t width, int64_t depth, int64_t levels,
                                      const nets::BlendAnonymizerOptions& blend) {
  nlohmann::json cfg = {{"format", "scrim-anonymizer-1"}, {"kind", kind}, {"input_size", input_size}};
  if (kind == "unet") cfg["width"] = width, cfg["depth"] = depth;
  if (kind == "bdq") cfg["levels"] = levels;
  if (kind == "blend") cfg["width"] = width, cfg["grid"] = blend.grid, cfg["bank"] = blend.bank, cfg["residual"] = blend.residual;
  if (kind == "blend") cfg["context"] = blend.context, cfg["budget"] = blend.budget, cfg["stride"] = blend.stride;
  if (kind == "blend") cfg["upsample"] = nets::upsample_name(blend.upsample), cfg["shape"] = nets::hide_shape_name(blend.shape);
  if (kind == "blend") cfg["edge"] = nets::edge_name(blend.edge);
  return build(cfg);
}

nets::BlendAnonymizerImpl* blend_anonymizer(const AnonymizerModel& model) {
  return dynamic_cast<nets::BlendAnonymizerImpl*>(&model.net());
}

void write_anonymizer(torch::serialize::OutputArchive& archive, const AnonymizerModel& model) {
  torch::serialize::OutputArchive weights;
  model.net().save(weights);
  archive.write("anonymizer", weights);
  archive.write("anonymizer_config", c10::IValue(model.config.dump()));
}

AnonymizerModel read_anonymizer(torch::serialize::InputArchive& archive, const std::string& name) {
  c10::IValue v;
  if (!archive.try_read("anonymizer_config", v)) throw Error(name + ": not a scrim anonymizer (no configuration)");
  AnonymizerModel m;
  try {
    auto cfg = nlohmann::json::parse(v.toStringRef());
    if (cfg.value("format", "") != "scrim-anonymizer-1") throw Error(name + ": unknown anonymizer format");
    m = build(cfg);
  } catch (const nlohmann::json::exception& e) {
    throw Error(name + ": unreadable anonymizer configuration (" + e.what() + ")");
  }
  try {
    torch::serialize::InputArchive weights;
    archive.read("anonymizer", weights);
    m.net().load(weights);
  } catch (const c10::Error&) {
    throw Error(name + ": anonymizer weights do not match its configuration");
  }
  m.net().eval();
  return m;
}

AnonymizerModel read_anonymizer(const std::filesystem::path& file) {
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

torch::Tensor apply_anonymizer(const AnonymizerModel& model, const torch::Tensor& images) {
  namespace F = torch::nn::functional;
  auto size = model.input_size();
  auto h = images.size(2), w = images.size(3);
  if (h == size && w == size) return model.forward(images);
  // The control-space anonymizer hides a region and leaves the rest: it blends at the picture's own size.
  if (auto* blend = blend_anonymizer(model)) return blend->forward_any_size(images);
  auto x = F::interpolate(images, F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kArea));
  auto y = model.forward(x);
  return F::interpolate(y, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false)).clamp(0, 1);
}

BdqParameters read_bdq_parameters(const std::filesystem::path& file) {
  auto m = read_anonymizer(file);
  if (m.config.value("kind", "unet") != "bdq") throw Error(file.string() + ": not a BDQ encoder (train one with --anonymizer bdq)");
  auto& enc = dynamic_cast<nets::BdqEncoderImpl&>(m.net());
  return {enc.sigma(), enc.boundaries()};
}

}  // namespace scrim::method
