// The control-space anonymizer: its bank spec, its start near the identity,
// blend weights on the simplex, a render linear in the weights, and a residual
// that the utility side cannot move; the guided up-sampler's mask edges.
#include "nets/blend_anonymizer.h"

#include <gtest/gtest.h>

#include "method/anonymizer_model.h"
#include "method/probe_space.h"
#include "scrim/core/error.h"
#include "test_util.h"

namespace scrim::nets {

namespace {

// The centre (row, column, in cells) of a region's weights [1, 1, G, G].
std::pair<double, double> region_centre(const torch::Tensor& region) {
  const auto g = region.size(2);
  auto axis = torch::arange(g, torch::kFloat32) + 0.5;
  auto m = region.detach() / region.detach().sum();
  return {(m * axis.view({1, 1, g, 1})).sum().item<double>(), (m * axis.view({1, 1, 1, g})).sum().item<double>()};
}

// A network on an 8 x 8 grid at 64 pixels with a 5% budget whose head has learned something (random weights).
BlendAnonymizer learned_budget_net(BlendAnonymizerOptions o = {}) {
  o.grid = 8;
  o.input_size = 64;
  o.budget = 0.05;
  BlendAnonymizer net(o);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters())
    if (p.key().rfind("head", 0) == 0) p.value().normal_(0, 0.5);
  return net;
}

}  // namespace

TEST(BlendAnonymizer, ParsesTheBankAndRejectsBadItems) {
  auto items = parse_bank("blur:sigma=2,pixelate:block=4,fill");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].kind, BankItem::Kind::kIdentity);
  EXPECT_EQ(items[1].kind, BankItem::Kind::kBlur);
  EXPECT_EQ(items[1].value, 2.0);
  EXPECT_EQ(items[2].value, 4.0);
  EXPECT_EQ(items[3].value, 0.5);
  for (const char* bad : {"", "blur:sigma=x", "blur:block=3", "swirl", "pixelate:block=2.5", "fill:value=2", "blur,,fill", "identity"})
    EXPECT_THROW(parse_bank(bad), UsageError) << bad;
}

TEST(BlendAnonymizer, StartsNearTheIdentityWithWeightsOnTheSimplex) {
  torch::manual_seed(1);
  BlendAnonymizerOptions o;
  o.grid = 4;
  o.input_size = 32;
  BlendAnonymizer net(o);
  auto x = torch::rand({2, 3, 32, 32});
  auto w = net->weights(x);
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{2, 4, 4, 4}));
  EXPECT_TRUE(torch::allclose(w.sum(1), torch::ones({2, 4, 4})));
  EXPECT_GT(w.select(1, 0).min().item<double>(), 0.97);  // the identity's share
  EXPECT_LT((net->forward(x) - x).abs().mean().item<double>(), 0.02);
  // Rendering is linear in the weights: all weight on the fill gives the grey image.
  auto bank = net->bank(x);
  auto fill = torch::zeros({2, 4, 4, 4});
  fill.select(1, 3).fill_(1);
  EXPECT_TRUE(torch::allclose(BlendAnonymizerImpl::render(bank, fill), torch::full({2, 3, 32, 32}, 0.5)));
  auto w2 = torch::rand({2, 4, 4, 4});
  EXPECT_TRUE(torch::allclose(BlendAnonymizerImpl::render(bank, w + 2 * w2),
                              BlendAnonymizerImpl::render(bank, w) + 2 * BlendAnonymizerImpl::render(bank, w2), 1e-4, 1e-5));
  EXPECT_THROW(BlendAnonymizer(BlendAnonymizerOptions{1, "blur", false, 8, 32}), UsageError);
}

// What a centre cell's controls read, as a function of the picture's corners: nothing without the context
// layers (a 15-pixel receptive field), something with three.
TEST(BlendAnonymizer, ContextLayersLetACentreCellSeeThePicturesCorners) {
  for (int64_t context : {0, 3}) {
    torch::manual_seed(3);
    BlendAnonymizerOptions o;
    o.grid = 16;
    o.context = context;
    BlendAnonymizer net(o);
    auto x = torch::rand({1, 3, 112, 112}).requires_grad_(true);
    net->features(x).index({0, torch::indexing::Slice(), 8, 8}).sum().backward();
    auto g = x.grad().abs();
    using torch::indexing::Slice;
    double corners = g.index({0, Slice(), Slice(0, 16), Slice(0, 16)}).sum().item<double>() +
                     g.index({0, Slice(), Slice(96, 112), Slice(96, 112)}).sum().item<double>();
    if (context == 0)
      EXPECT_EQ(corners, 0.0);
    else
      EXPECT_GT(corners, 0.0);
  }
  EXPECT_THROW(BlendAnonymizer(BlendAnonymizerOptions{8, "blur", false, 8, 112, 7}), UsageError);
}

// With a budget the hidden share of every picture is fixed whatever the network says; only where it
// goes (and which obfuscation) is learned, and no cell is hidden more than fully.
TEST(BlendAnonymizer, ABudgetFixesTheHiddenShareAndLeavesWhereToTheNetwork) {
  torch::manual_seed(4);
  auto net = learned_budget_net();
  auto x = torch::rand({3, 3, 64, 64});
  auto w = net->weights(x);
  EXPECT_TRUE(torch::allclose(w.sum(1), torch::ones({3, 8, 8})));
  EXPECT_GE(w.min().item<double>(), 0.0);
  auto hidden = (1 - w.select(1, 0)).mean({1, 2});
  EXPECT_TRUE(torch::allclose(hidden, torch::full({3}, 0.05), 1e-4, 1e-5)) << hidden;
  // The pictures differ in where they hide: the allocation depends on the picture.
  EXPECT_GT((w[0][0] - w[1][0]).abs().max().item<double>(), 1e-3);
  // Scores that concentrate on one cell hide it fully and no more (the rest of its share is not spent).
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters())
      if (p.key().rfind("head", 0) == 0) p.value().mul_(200);
  }
  w = net->weights(x);
  EXPECT_LE(w.select(1, 0).min().item<double>(), 1e-3);
  EXPECT_GE(w.select(1, 0).min().item<double>(), -1e-6);
  EXPECT_THROW(BlendAnonymizer(BlendAnonymizerOptions{8, "blur", false, 8, 64, 0, 1.5}), UsageError);
}

// Placement detached (a placement learned by search alone, method/placement_search.h): the output is the same, the
// rendered picture's gradient no longer reaches the placement scores (the head's channel 0), the split over the
// obfuscations (channels 1..) still gets one.
TEST(BlendAnonymizer, APlacementDetachedGetsNoGradientThroughTheOutputAndTheSplitStillDoes) {
  torch::manual_seed(5);
  BlendAnonymizerOptions o;
  o.bank = "blur:sigma=2,fill";
  o.shape = HideShape::kHead;
  auto net = learned_budget_net(o);
  auto x = torch::rand({2, 3, 64, 64});
  const auto head = net->named_parameters()["head.weight"];  // [K, C, 1, 1]: row 0 scores the placement
  auto head_grad = [&] { return torch::autograd::grad({(net->forward(x) * x).sum()}, {head}, {}, false, false, true)[0]; };
  const auto attached = net->forward(x).detach();
  const auto g_attached = head_grad();
  net->set_placement_detached(true);
  EXPECT_TRUE(torch::equal(net->forward(x).detach(), attached));
  const auto g_detached = head_grad();
  EXPECT_GT(g_attached[0].abs().sum().item<double>(), 0);
  EXPECT_EQ(g_detached[0].abs().sum().item<double>(), 0);
  EXPECT_GT(g_detached.slice(0, 1).abs().sum().item<double>(), 0);
  net->set_placement_detached(false);
  EXPECT_GT(head_grad()[0].abs().sum().item<double>(), 0);
}

// The bank's fixed obfuscations follow the picture's options: its dtype here, its device on a GPU (a blur kernel built
// on the CPU stopped every --device cuda run with a blur in the bank: docs/method-measurements.md, "On a GPU").
TEST(BlendAnonymizer, TheBanksObfuscationsFollowThePicturesOptions) {
  BlendAnonymizerOptions o;
  o.grid = 4;
  o.input_size = 32;
  o.bank = "blur:sigma=2,pixelate:block=4,fill";
  BlendAnonymizer net(o);
  auto x = torch::rand({2, 3, 32, 32});
  auto single = net->bank(x);
  auto doubled = net->bank(x.to(torch::kFloat64));
  EXPECT_EQ(doubled.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(doubled.to(torch::kFloat32), single, 1e-5, 1e-6));
}

TEST(BlendAnonymizer, TheResidualIsTrainedByThePrivacySideOnly) {
  torch::manual_seed(2);
  BlendAnonymizerOptions o;
  o.grid = 4;
  o.input_size = 32;
  o.residual = true;
  BlendAnonymizer net(o);
  auto x = torch::rand({1, 3, 32, 32});
  method::ControlProbeSpace space(net->bank(x), net->weights(x), net->residual(x), {{0}});
  auto residual_params = net->named_parameters(true);
  std::vector<torch::Tensor> res, ctl;
  for (const auto& p : residual_params) (p.key().rfind("residual", 0) == 0 ? res : ctl).push_back(p.value());
  ASSERT_FALSE(res.empty());
  // What the utility side reads (the black box's probes, the white-box bound's x') reaches the
  // controls, not the residual.
  auto grads = torch::autograd::grad({space.x_prime().sum()}, res, {}, true, false, /*allow_unused=*/true);
  for (const auto& t : grads) EXPECT_TRUE(!t.defined() || t.abs().sum().item<double>() == 0);
  auto ctl_grads = torch::autograd::grad({space.surrogate({torch::randn({1, 4, 4, 4})})}, ctl, {}, true, false, true);
  double moved = 0;
  for (const auto& t : ctl_grads) moved += t.defined() ? t.abs().sum().item<double>() : 0;
  EXPECT_GT(moved, 0);
  // The output the privacy side sees does carry the residual.
  auto out_grads = torch::autograd::grad({space.output().sum()}, res, {}, false, false, true);
  double reached = 0;
  for (const auto& t : out_grads) reached += t.defined() ? t.abs().sum().item<double>() : 0;
  EXPECT_GT(reached, 0);
}

namespace {

// The model written to a file and read back, as `scrim protect` and `scrim eval` load it.
method::AnonymizerModel saved_and_loaded(const method::AnonymizerModel& model) {
  testing::ScratchDir dir;
  auto file = dir / "anonymizer.pt";
  torch::serialize::OutputArchive archive;
  method::write_anonymizer(archive, model);
  archive.save_to(file.string());
  return method::read_anonymizer(file);
}

}  // namespace

// At stride 8 the 112-pixel picture gives 14 x 14 features, so a 28-cell grid repeats each of them over
// 2 x 2 cells: neighbouring controls cannot differ, and a head is hidden with the cells round it. At
// stride 4 they can. The stride is saved with the model: loaded, the same controls come out.
TEST(BlendAnonymizer, StrideFourControlsTellApartCellsThatStrideEightMerges) {
  using torch::indexing::Slice;
  auto x = torch::rand({1, 3, 112, 112});
  // The largest difference between horizontally neighbouring cells' features.
  auto neighbours = [](const torch::Tensor& f) {
    return (f.index({Slice(), Slice(), Slice(), Slice(0, 28, 2)}) - f.index({Slice(), Slice(), Slice(), Slice(1, 28, 2)})).abs().max().item<double>();
  };
  torch::NoGradGuard no_grad;
  for (int64_t stride : {8, 4}) {
    torch::manual_seed(5);
    BlendAnonymizerOptions o;
    o.grid = 28;
    o.stride = stride;
    BlendAnonymizer net(o);
    auto f = net->features(x);
    ASSERT_EQ(f.size(3), 28);
    if (stride == 8)
      EXPECT_EQ(neighbours(f), 0.0);
    else
      EXPECT_GT(neighbours(f), 1e-4);
  }
  EXPECT_THROW(BlendAnonymizer(BlendAnonymizerOptions{8, "blur", false, 8, 112, 0, 0, 2}), UsageError);

  BlendAnonymizerOptions o;
  o.grid = 28;
  o.stride = 4;
  auto model = method::make_anonymizer_model("blend", 112, 8, 0, 0, o);
  auto loaded = method::blend_anonymizer(saved_and_loaded(model))->features(x);
  EXPECT_GT(neighbours(loaded), 1e-4);
  EXPECT_TRUE(torch::allclose(loaded, method::blend_anonymizer(model)->features(x)));
}

// A picture red left of column 54 and blue from it, hidden (the fill) on the cells left of column 56 of a
// 28 x 28 grid. The ideal mask hides the red pixels only. Bilinear up-sampling spreads the boundary cell's
// weight over the blue pixels beside the edge; the guided up-sampler puts the mask's edge on the picture's.
// Its mask stays a convex blend per pixel (the fit overshoots beside an edge: clipped), and the choice is
// saved with the model.
TEST(BlendAnonymizer, GuidedUpsamplingPutsTheMaskEdgeOnThePicturesEdge) {
  using torch::indexing::Slice;
  auto picture = torch::empty({1, 3, 112, 112});
  picture.index_put_({0, Slice(), Slice(), Slice(0, 54)}, torch::tensor({0.8, 0.2, 0.2}).view({3, 1, 1}));
  picture.index_put_({0, Slice(), Slice(), Slice(54, 112)}, torch::tensor({0.2, 0.2, 0.8}).view({3, 1, 1}));
  auto weights = torch::zeros({1, 2, 28, 28});
  weights.index_put_({0, 1, Slice(), Slice(0, 14)}, 1.0);
  weights.select(1, 0).copy_(1 - weights.select(1, 1));
  auto ideal = (torch::arange(112) < 54).to(torch::kFloat32);
  // The mean |mask - ideal| over the 12 pixels round the edge on a middle row, and on the edge's first
  // blue pixel.
  auto edge_error = [&](Upsample u) {
    auto hidden = BlendAnonymizerImpl::mask(weights, picture, u).index({0, 1, 56, Slice(48, 60)});
    return std::make_pair((hidden - ideal.slice(0, 48, 60)).abs().mean().item<double>(), hidden[6].item<double>());
  };
  auto [bilinear, bilinear_first_blue] = edge_error(Upsample::kBilinear);
  auto [guided, guided_first_blue] = edge_error(Upsample::kGuided);
  EXPECT_GT(bilinear_first_blue, 0.8);
  EXPECT_LT(guided_first_blue, 0.4);
  EXPECT_LT(guided, 0.6 * bilinear);
  auto m = BlendAnonymizerImpl::mask(torch::softmax(torch::randn({1, 3, 28, 28}), 1), picture, Upsample::kGuided);
  EXPECT_TRUE(torch::allclose(m.sum(1), torch::ones({1, 112, 112}), 1e-4, 1e-4));
  EXPECT_GE(m.min().item<double>(), 0.0);
  EXPECT_LE(m.max().item<double>(), 1.0 + 1e-6);
  EXPECT_THROW(parse_upsample("nearest"), UsageError);

  BlendAnonymizerOptions o;
  o.grid = 28;
  o.stride = 4;
  o.upsample = Upsample::kGuided;
  auto loaded = method::blend_anonymizer(saved_and_loaded(method::make_anonymizer_model("blend", 112, 8, 0, 0, o)));
  EXPECT_EQ(loaded->options().upsample, Upsample::kGuided);
}

// A hard edge: each pixel is the picture or the obfuscations' blend, nothing between (the soft edge's tint on what lies
// round a region costs answers, docs/results.md "a twentieth look"), hidden outright where the soft mask hides at least
// the cut, with the soft mask's split over the obfuscations; the gradient is the soft mask's; the file keeps it.
TEST(BlendAnonymizer, AHardEdgeHidesEachPixelOutrightOrNotAndTrainsThroughTheSoftMask) {
  torch::manual_seed(3);
  auto picture = torch::rand({2, 3, 64, 64});
  auto weights = torch::softmax(2 * torch::randn({2, 3, 8, 8}), 1).requires_grad_(true);
  for (auto upsample : {Upsample::kBilinear, Upsample::kGuided}) {
    for (double cut : {0.5, 0.25}) {
      auto soft = BlendAnonymizerImpl::mask(weights, picture, upsample, Edge{});
      auto hard = BlendAnonymizerImpl::mask(weights, picture, upsample, Edge{cut});
      auto soft_hidden = 1 - soft.select(1, 0), hard_hidden = 1 - hard.select(1, 0);
      // The soft mask has partial pixels; the hard one none, and it hides exactly where the soft one hides the cut or more.
      EXPECT_GT(((soft_hidden > 0.05) & (soft_hidden < 0.95)).to(torch::kFloat32).mean().item<double>(), 0.3);
      EXPECT_TRUE(torch::equal(hard_hidden.detach(), (soft_hidden >= cut).to(torch::kFloat32))) << cut;
      // The split over the obfuscations is the soft mask's, scaled to the whole pixel.
      auto hidden_px = (soft_hidden >= cut).unsqueeze(1);
      auto split = soft.slice(1, 1) / soft_hidden.unsqueeze(1).clamp_min(1e-6);
      EXPECT_TRUE(torch::allclose(hard.slice(1, 1).detach(), (split * hidden_px).detach(), 1e-4, 1e-5));
      EXPECT_TRUE(torch::allclose(hard.sum(1).detach(), torch::ones({2, 64, 64}), 1e-4, 1e-4));
      // Straight-through: the same gradient reaches the weights as through the soft mask.
      auto probe = torch::randn_like(soft);
      auto g_soft = torch::autograd::grad({(soft * probe).sum()}, {weights})[0];
      auto g_hard = torch::autograd::grad({(hard * probe).sum()}, {weights})[0];
      EXPECT_TRUE(torch::allclose(g_hard, g_soft, 1e-5, 1e-6));
    }
  }
  // A network with a hard edge renders the picture or its fill at every pixel; saved and loaded, it still does.
  BlendAnonymizerOptions o;
  o.bank = "fill:value=0.25";
  o.budget = 0.1;
  o.shape = HideShape::kHead;  // one region of a tenth of the picture, its core hidden outright
  o.edge = Edge{0.5};
  auto model = method::make_anonymizer_model("blend", 64, 8, 0, 0, o);
  {
    torch::NoGradGuard no_grad;
    model.net().named_parameters()["head.weight"].normal_(0, 5);
  }
  auto loaded = saved_and_loaded(model);
  EXPECT_EQ(method::blend_anonymizer(loaded)->options().edge, Edge{0.5});
  torch::NoGradGuard no_grad;
  auto y = loaded.forward(picture);
  auto is_picture = (y - picture).abs().amax(1) < 1e-5, is_fill = (y - 0.25).abs().amax(1) < 1e-5;
  EXPECT_TRUE((is_picture | is_fill).all().item<bool>());
  EXPECT_GT(is_fill.to(torch::kFloat32).mean().item<double>(), 0.05);
  EXPECT_GT(is_picture.to(torch::kFloat32).mean().item<double>(), 0.05);
  // A fitted fill takes the colour of the soft mask's core, hard edge or not (hidden outright, the whole region would
  // count as core and the colour drift toward what lies round the head).
  BlendAnonymizerOptions fitted = o;
  fitted.bank = "fill:value=fit";
  auto hard_net = method::make_anonymizer_model("blend", 64, 8, 0, 0, fitted);
  fitted.edge = Edge{};
  auto soft_net = method::make_anonymizer_model("blend", 64, 8, 0, 0, fitted);
  auto from = model.net().parameters(), to_soft = soft_net.net().parameters(), to_hard = hard_net.net().parameters();
  for (size_t i = 0; i < from.size(); ++i) to_soft[i].copy_(from[i]), to_hard[i].copy_(from[i]);
  EXPECT_TRUE(torch::allclose(method::blend_anonymizer(hard_net)->fill_statistics(picture),
                              method::blend_anonymizer(soft_net)->fill_statistics(picture)));
  EXPECT_EQ(parse_edge("hard"), Edge{0.5});
  EXPECT_EQ(parse_edge("soft"), Edge{});
  EXPECT_EQ(parse_edge(edge_name(Edge{0.3})), Edge{0.3});
  EXPECT_EQ(edge_name(Edge{0.35}), "hard:0.35");
  EXPECT_EQ(parse_edge(edge_name(Edge{1.0 / 3})), Edge{1.0 / 3});
  EXPECT_EQ(parse_edge(edge_name(Edge{})), Edge{});
  for (const char* bad : {"sharp", "hard:", "hard:0", "hard:1.5", "hard:x", "hard:0.5x"}) EXPECT_THROW(parse_edge(bad), UsageError) << bad;
}

// At any size the anonymizer blends at the picture's own resolution: on a 4:3 picture four times its working
// resolution every pixel its hard-edged region leaves is the picture's own (not a working-resolution copy's, which a
// picture of noise would show everywhere), and the region lies where the working-resolution output puts it and
// covers the same share; at the working resolution the output is forward()'s.
TEST(BlendAnonymizer, AtAnySizeItBlendsAtThePicturesOwnResolution) {
  namespace F = torch::nn::functional;
  torch::manual_seed(5);
  BlendAnonymizerOptions o;
  o.bank = "fill:value=0.25";
  o.budget = 0.1;
  o.shape = HideShape::kHead;
  o.edge = Edge{0.5};
  for (auto upsample : {Upsample::kBilinear, Upsample::kGuided}) {
    o.upsample = upsample;
    auto model = method::make_anonymizer_model("blend", 64, 8, 0, 0, o);
    torch::NoGradGuard no_grad;
    model.net().named_parameters()["head.weight"].normal_(0, 5);
    // Flat 16-pixel blocks, as a picture's regions, with a little noise that a working-resolution copy would lose.
    auto blocks =
        F::interpolate(torch::rand({2, 3, 16, 12}), F::InterpolateFuncOptions().size(std::vector<int64_t>{256, 192}).mode(torch::kNearest));
    auto big = (blocks + 0.02 * torch::randn({2, 3, 256, 192})).clamp(0, 1);
    auto y = method::apply_anonymizer(model, big);
    ASSERT_EQ(y.sizes(), big.sizes());
    auto is_picture = (y - big).abs().amax(1) < 1e-5, is_fill = (y - 0.25).abs().amax(1) < 1e-5;
    EXPECT_TRUE((is_picture | is_fill).all().item<bool>());
    auto small = F::interpolate(big, F::InterpolateFuncOptions().size(std::vector<int64_t>{64, 64}).mode(torch::kArea));
    auto y_small = model.forward(small);
    EXPECT_TRUE(torch::equal(method::apply_anonymizer(model, small), y_small));
    auto fill_small = (y_small - 0.25).abs().amax(1) < 1e-5;
    // Per picture: the hidden share, and the region's centre as fractions of the height and width.
    auto share_and_centre = [](const torch::Tensor& hidden) {
      auto m = hidden.to(torch::kFloat64);
      const auto h = m.size(0), w = m.size(1);
      auto rows = (torch::arange(h, torch::kFloat64) + 0.5) / static_cast<double>(h),
           cols = (torch::arange(w, torch::kFloat64) + 0.5) / static_cast<double>(w);
      const double mass = m.sum().item<double>();
      return std::array<double, 3>{m.mean().item<double>(), (m * rows.view({-1, 1})).sum().item<double>() / mass,
                                   (m * cols.view({1, -1})).sum().item<double>() / mass};
    };
    for (int64_t i = 0; i < 2; ++i) {
      auto at_size = share_and_centre(is_fill[i]), at_working = share_and_centre(fill_small[i]);
      EXPECT_GT(at_working[0], 0.05);
      for (int j = 0; j < 3; ++j)
        EXPECT_NEAR(at_size[j], at_working[j], 0.02) << "picture " << i << ", figure " << j << ", " << upsample_name(upsample);
    }
    // Only the window round the region is drawn, and it is all there is to draw: the output is the whole up-sampled
    // mask's blend, hard-edged as here or soft (whose tails reach every pixel).
    for (auto edge : {Edge{0.5}, Edge{}}) {
      auto blend = method::blend_anonymizer(model);
      auto options = blend->options();
      options.edge = edge;
      auto same = method::make_anonymizer_model("blend", 64, 8, 0, 0, options);
      auto from = model.net().parameters(), to = same.net().parameters();
      for (size_t p = 0; p < from.size(); ++p) to[p].copy_(from[p]);
      auto up = [](const torch::Tensor& t) {
        return F::interpolate(t,
                              F::InterpolateFuncOptions().size(std::vector<int64_t>{256, 192}).mode(torch::kBilinear).align_corners(false));
      };
      auto m = up(BlendAnonymizerImpl::mask(blend->weights(small), small, upsample));
      if (edge.hard()) m = BlendAnonymizerImpl::hardened(m, edge);
      auto whole = m.slice(1, 0, 1) * big + m.slice(1, 1, 2) * up(blend->bank(small).select(1, 1));
      EXPECT_TRUE(torch::allclose(method::apply_anonymizer(same, big), whole, 1e-5, 1e-5)) << edge_name(edge);
    }
  }
}

// The "ellipse" shape: whatever the scores, one region of the budget's area (within 10%), centred where they put
// their mass and elongated along their spread. A blob allocation of the same scores hides one cell.
TEST(BlendAnonymizer, AnEllipseBudgetHidesOneRegionOfTheBudgetsAreaWhereTheScoresPointIt) {
  using torch::indexing::Slice;
  const int64_t g = 28;
  const double budget = 0.02, area = budget * g * g;  // 15.7 cells
  auto at = [&](std::vector<std::pair<int64_t, int64_t>> cells) {
    auto p = torch::zeros({1, 1, g, g});
    for (auto [y, x] : cells) p.index_put_({0, 0, y, x}, 1.0 / static_cast<double>(cells.size()));
    return p;
  };
  auto disc = BlendAnonymizerImpl::ellipse_region(at({{10, 20}}), budget);
  EXPECT_NEAR(disc.sum().item<double>(), area, 0.1 * area);
  EXPECT_GT(disc.index({0, 0, 10, 20}).item<double>(), 0.99);
  EXPECT_LT(disc.index({0, 0, 10, 25}).item<double>(), 0.01);  // beyond the radius (2.2 cells)
  // Mass spread along a row: the same area, stretched along x.
  auto wide = BlendAnonymizerImpl::ellipse_region(at({{14, 8}, {14, 20}}), budget);
  EXPECT_NEAR(wide.sum().item<double>(), area, 0.1 * area);
  auto extent = [](const torch::Tensor& m, int dim) { return (m.squeeze() > 0.5).any(dim).sum().item<int64_t>(); };
  EXPECT_GT(extent(wide, 0), 2 * extent(wide, 1));  // columns touched > 2 x rows touched
  // Through the network: from the start, one compact region of the budget's area per picture (a blob
  // allocation starts spread evenly, 0.02 per cell).
  BlendAnonymizerOptions o;
  o.grid = g;
  o.stride = 4;
  o.budget = budget;
  o.shape = HideShape::kEllipse;
  torch::manual_seed(9);
  BlendAnonymizer net(o);
  auto hidden = 1 - net->weights(torch::rand({2, 3, 112, 112})).select(1, 0);
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(hidden[i].sum().item<double>(), area, 0.1 * area);
    EXPECT_GT(hidden[i].max().item<double>(), 0.99);
  }
  EXPECT_THROW(parse_hide_shape("star"), UsageError);
  for (auto shape : {HideShape::kBlob, HideShape::kEllipse, HideShape::kPeak, HideShape::kHead}) EXPECT_EQ(parse_hide_shape(hide_shape_name(shape)), shape);
  EXPECT_EQ(method::blend_anonymizer(saved_and_loaded(method::make_anonymizer_model("blend", 112, 8, 0, 0, [] {
              BlendAnonymizerOptions e;
              e.budget = 0.02;
              e.shape = HideShape::kEllipse;
              return e;
            }())))->options().shape,
            HideShape::kEllipse);
}

// A privacy signal that wants the cells round (5, 5) hidden, the ellipse starting as a disc in the middle (14, 14):
// one gradient step on the scores moves its centre toward (5, 5). Through the ellipse's own centre and
// covariance the gradient is nil this far away (its edge is nowhere near); the straight-through blob gradient
// is what moves it.
TEST(BlendAnonymizer, AnEllipseMovesTowardTheCellsThePrivacySignalWantsHidden) {
  const int64_t g = 28;
  auto target = torch::zeros({1, 1, g, g});
  target.index_put_({0, 0, torch::indexing::Slice(3, 8), torch::indexing::Slice(3, 8)}, 1.0);
  auto logits = torch::zeros({1, g * g}).requires_grad_(true);
  auto where = [&](const torch::Tensor& l) { return torch::softmax(l, 1).view({1, 1, g, g}); };
  auto start = BlendAnonymizerImpl::hidden_share(where(logits), 0.02, HideShape::kEllipse);
  auto [y0, x0] = region_centre(start);
  EXPECT_NEAR(y0, 14.0, 0.5);
  auto loss = -(start * target).sum();
  auto grad = torch::autograd::grad({loss}, {logits})[0];
  auto moved = BlendAnonymizerImpl::hidden_share(where(logits.detach() - 2000 * grad), 0.02, HideShape::kEllipse);
  auto [y1, x1] = region_centre(moved);
  EXPECT_LT(y1, y0 - 1.0);
  EXPECT_LT(x1, x0 - 1.0);
}


// Two heads the scores mark, the main one twice as strongly: the ellipse on the scores' mean lands between
// them, on neither; the peak's lands on the main head.
TEST(BlendAnonymizer, APeakEllipseSitsOnTheStrongestModeWhereTheMeanFallsBetweenTwo) {
  const int64_t g = 28;
  const double budget = 0.02;
  auto p = torch::full({1, 1, g, g}, 1e-4);
  p.index_put_({0, 0, torch::indexing::Slice(6, 9), torch::indexing::Slice(6, 9)}, 2.0);    // the main head
  p.index_put_({0, 0, torch::indexing::Slice(18, 21), torch::indexing::Slice(18, 21)}, 1.0);  // a bystander
  p = p / p.sum();
  auto mean_region = BlendAnonymizerImpl::hidden_share(p, budget, HideShape::kEllipse);
  auto peak_region = BlendAnonymizerImpl::hidden_share(p, budget, HideShape::kPeak);
  auto [my, mx] = region_centre(mean_region);  // about (11.5, 11.5): between the heads
  EXPECT_GT(std::hypot(my - 7.5, mx - 7.5), 3.0);
  auto [py, px] = region_centre(peak_region);
  EXPECT_LT(std::hypot(py - 7.5, px - 7.5), 1.5);  // inside the main head's 3 x 3 cells (the bystander keeps 1/17 of the mass)
  EXPECT_GT(peak_region.index({0, 0, 7, 7}).item<double>(), 0.95);
  EXPECT_LT(peak_region.index({0, 0, 19, 19}).item<double>(), 0.05);
  EXPECT_NEAR(peak_region.sum().item<double>(), budget * g * g, 0.1 * budget * g * g);
}

// The main head a broad mark (3 x 3 cells, 0.6 of the mass), a name tag on the shirt below it one sharp cell
// (0.3): the mean falls between them, on the neck; the sharpest cell is the tag; the head shape covers the most
// mass, the head, with an upright ellipse of the budget's area.
TEST(BlendAnonymizer, AHeadEllipseCoversTheMostMassNotTheMeanNorTheSharpestCell) {
  const int64_t g = 28;
  const double budget = 0.015;
  auto p = torch::full({1, 1, g, g}, 0.1 / (g * g - 10));
  p.index_put_({0, 0, torch::indexing::Slice(6, 9), torch::indexing::Slice(12, 15)}, 0.6 / 9);  // the head
  p.index_put_({0, 0, 16, 13}, 0.3);                                                           // the tag
  auto [my, mx] = region_centre(BlendAnonymizerImpl::hidden_share(p, budget, HideShape::kEllipse));
  EXPECT_GT(my, 9.5);  // below the head
  auto [py, px] = region_centre(BlendAnonymizerImpl::hidden_share(p, budget, HideShape::kPeak));
  EXPECT_GT(py, 14.0);  // on the tag
  auto head = BlendAnonymizerImpl::hidden_share(p, budget, HideShape::kHead);
  auto [hy, hx] = region_centre(head);
  EXPECT_NEAR(hy, 7.5, 0.6);
  EXPECT_NEAR(hx, 13.5, 0.6);
  EXPECT_GT(head.index({0, 0, 7, 13}).item<double>(), 0.95);
  EXPECT_LT(head.index({0, 0, 16, 13}).item<double>(), 0.01);
  EXPECT_NEAR(head.sum().item<double>(), budget * g * g, 0.1 * budget * g * g);
  auto rows = (head.squeeze() > 0.5).any(1).sum().item<int64_t>(), cols = (head.squeeze() > 0.5).any(0).sum().item<int64_t>();
  EXPECT_GE(rows, cols);  // upright
  // The blob's gradient still reaches the scores far from the ellipse (what brings it to a head from elsewhere).
  auto logits = torch::log(p).view({1, g * g}).requires_grad_(true);
  auto share = BlendAnonymizerImpl::hidden_share(torch::softmax(logits, 1).view({1, 1, g, g}), budget, HideShape::kHead);
  auto grad = torch::autograd::grad({share.index({0, 0, 0, 0})}, {logits})[0];
  EXPECT_GT(grad.index({0, 0}).item<double>(), 0);
}

// The head ellipse on a head whose cells are at the budget's cap (the blob would hide each fully): the blob's
// gradient is nil there, so it cannot shift the ellipse within the head. The privacy signal wants the column
// right of the ellipse hidden: the ellipse's own gradient, through its centroid, raises the head's right cells
// and lowers its left ones, which moves it right.
TEST(BlendAnonymizer, AHeadEllipsesOwnGradientShiftsItWhereTheBlobsIsCapped) {
  const int64_t g = 28;
  const double budget = 0.015;
  auto p = torch::full({1, 1, g, g}, 0.1 / (g * g - 9));
  p.index_put_({0, 0, torch::indexing::Slice(6, 9), torch::indexing::Slice(12, 15)}, 0.9 / 9);  // 11.8 x 0.1: capped
  auto target = torch::zeros({1, 1, g, g});
  target.index_put_({0, 0, torch::indexing::Slice(5, 10), torch::indexing::Slice(13, 17)}, 1.0);
  auto where = p.clone().requires_grad_(true);
  auto region = BlendAnonymizerImpl::hidden_share(where, budget, HideShape::kHead);
  auto grad = torch::autograd::grad({-(region * target).sum()}, {where})[0];
  EXPECT_GT(grad.index({0, 0, 7, 12}).item<double>(), 0.5);   // the head's left column: less
  EXPECT_LT(grad.index({0, 0, 7, 14}).item<double>(), -0.5);  // its right column: more
  EXPECT_NEAR(grad.index({0, 0, 7, 13}).item<double>(), 0.0, 1e-3);
}

}  // namespace scrim::nets

namespace scrim::nets {

// fill:value=fit: the fill's colour is the mean of what it covers, weighted by its mask, and it travels with
// the weights. The fresh network's controls are its biases alone, so both pictures get the same mask and the
// fitted colour is the mean of their two colours; a second batch of a third colour moves it by its weight.
TEST(BlendAnonymizer, AFittedFillTakesTheMeanColourOfWhatItCoversAndIsSavedWithTheWeights) {
  EXPECT_TRUE(parse_bank("blur,fill:value=fit")[2].fitted);
  EXPECT_FALSE(parse_bank("blur,fill:value=0.5")[2].fitted);
  EXPECT_THROW(parse_bank("fill:value=fit,fill:value=fit"), UsageError);
  EXPECT_THROW(parse_bank("blur:sigma=fit"), UsageError);
  EXPECT_FALSE(BlendAnonymizer(BlendAnonymizerOptions{4, "blur,fill", false, 8, 32})->has_fitted_fill());

  torch::manual_seed(1);
  BlendAnonymizerOptions o{4, "blur:sigma=2,fill:value=fit", false, 8, 32};
  auto model = method::make_anonymizer_model("blend", 32, 8, 0, 0, o);
  auto& net = *method::blend_anonymizer(model);
  ASSERT_TRUE(net.has_fitted_fill());
  EXPECT_TRUE(torch::allclose(net.fill_colour(), torch::full({3}, 0.5)));  // grey until fitted
  auto picture = [](double r, double g, double b) { return torch::tensor({r, g, b}).view({1, 3, 1, 1}).expand({1, 3, 32, 32}).clone(); };
  auto x = torch::cat({picture(0.9, 0.6, 0.4), picture(0.1, 0.2, 0.0)});
  auto sums = net.fill_statistics(x);
  auto colour = net.fit_fill_colour(sums);
  EXPECT_TRUE(torch::allclose(colour, torch::tensor({0.5f, 0.4f, 0.2f}), 1e-4, 1e-4)) << colour;
  // Twice the pictures of another colour: it weighs twice as much.
  auto more = torch::cat({picture(0.2, 0.7, 0.5), picture(0.2, 0.7, 0.5)});
  colour = net.fit_fill_colour(sums + net.fill_statistics(more));
  EXPECT_TRUE(torch::allclose(colour, torch::tensor({0.35f, 0.55f, 0.35f}), 1e-4, 1e-4)) << colour;
  // Where the controls differ from cell to cell, the pixels each picture hides most (at least 0.9 of its peak) count,
  // each with the fill's weight there: not the plain mean, nor every pixel by its weight.
  {
    torch::NoGradGuard no_grad;
    net.named_parameters()["head.weight"].normal_(0, 50);
  }
  // Brighter to the right, so that where the controls put the fill changes the colour it covers.
  auto noisy = torch::rand({3, 3, 32, 32}) * torch::linspace(0, 1, 32).view({1, 1, 1, 32});
  auto masks = BlendAnonymizerImpl::mask(net.weights(noisy), noisy, o.upsample).detach();
  auto hidden = 1 - masks.select(1, 0).unsqueeze(1);
  auto m = masks.select(1, 2).unsqueeze(1) * (hidden >= 0.9 * hidden.amax({2, 3}, true));
  auto weighted = (m * noisy).sum({0, 2, 3}) / m.sum();
  auto every_pixel = masks.select(1, 2).unsqueeze(1);
  EXPECT_GT((weighted - (every_pixel * noisy).sum({0, 2, 3}) / every_pixel.sum()).abs().max().item<double>(), 0.02);
  auto fitted = net.fit_fill_colour(net.fill_statistics(noisy));
  EXPECT_TRUE(torch::allclose(fitted, weighted, 1e-4, 1e-5)) << fitted << weighted;
  EXPECT_GT((weighted - noisy.mean({0, 2, 3})).abs().max().item<double>(), 0.02) << weighted << noisy.mean({0, 2, 3});
  colour = net.fit_fill_colour(sums + net.fill_statistics(more));
  // The bank's fill renders it, and the file keeps it.
  auto bank = net.bank(x);
  EXPECT_TRUE(torch::allclose(bank.select(1, 2)[1], colour.view({3, 1, 1}).expand({3, 32, 32})));
  auto loaded = saved_and_loaded(model);
  EXPECT_TRUE(torch::allclose(method::blend_anonymizer(loaded)->fill_colour(), colour));
  EXPECT_TRUE(torch::allclose(loaded.forward(x), model.forward(x), 1e-5, 1e-6));
}

// A head region's soft edge, spread by the up-sampler over a background many times its area, must not pull the
// fitted colour off what the region hides: the fill takes the colour of the region's core (docs/results.md, "an
// eighteenth look": weighted by the mask everywhere, five trained regions fitted a light grey where their cores
// covered a dark head colour).
TEST(BlendAnonymizer, AFittedFillTakesTheColourOfTheRegionsCoreNotOfItsSoftEdge) {
  // Bilinearly up-sampled (on this clean picture the guided filter snaps the edge to the disc's and leaves no tail).
  {
    const auto upsample = Upsample::kBilinear;
    BlendAnonymizerOptions o{16, "fill:value=fit", false, 8, 64};
    o.budget = 0.04, o.shape = HideShape::kHead, o.upsample = upsample;
    BlendAnonymizer net(o);
    // A dark disc (the head) on a light background, centred where the untrained scores (even) put the region.
    auto cells = 1 - net->weights(torch::zeros({1, 3, 64, 64})).select(1, 0)[0].detach();  // [G, G]
    auto centre = (torch::arange(16, torch::kFloat32) + 0.5) / 16;
    auto cy = ((cells * centre.view({-1, 1})).sum() / cells.sum()).item<double>(),
         cx = ((cells * centre.view({1, -1})).sum() / cells.sum()).item<double>();
    auto axis = (torch::arange(64, torch::kFloat32) + 0.5) / 64;
    auto disc = (((axis.view({-1, 1}) - cy).pow(2) + (axis.view({1, -1}) - cx).pow(2)) <= 0.12 * 0.12).to(torch::kFloat32);
    auto head = torch::tensor({0.45f, 0.34f, 0.27f}).view({1, 3, 1, 1}), background = torch::tensor({0.8f, 0.85f, 0.9f}).view({1, 3, 1, 1});
    auto x = (disc * head + (1 - disc) * background).expand({2, 3, 64, 64}).contiguous();
    auto masks = BlendAnonymizerImpl::mask(net->weights(x), x, upsample).detach();
    // Weighted by the mask everywhere, the soft edge over the background moves the colour off the head's.
    auto fill = masks.select(1, 1).unsqueeze(1);
    auto everywhere = (fill * x).sum({0, 2, 3}) / fill.sum();
    EXPECT_GT((everywhere - head.view({3})).abs().max().item<double>(), 0.05) << everywhere << " (" << upsample_name(upsample) << ")";
    auto fitted = net->fit_fill_colour(net->fill_statistics(x)).to(torch::kFloat32);
    EXPECT_LT((fitted - head.view({3})).abs().max().item<double>(), 0.02) << fitted << " (" << upsample_name(upsample) << ")";
  }
}

// scrim_bench_hidden_region --offset: the head region moved down by a share of its own height (2 ry cells), nothing
// else about it changed.
TEST(BlendAnonymizer, AHeadRegionsOffsetMovesItDownByThatShareOfItsHeight) {
  const int64_t g = 28;
  const double budget = 0.014;
  auto where = torch::zeros({1, 1, g, g});
  where[0][0][12][14] = 1;
  auto placed = BlendAnonymizerImpl::head_region(where, budget), moved = BlendAnonymizerImpl::head_region(where, budget, 0.25);
  auto [y0, x0] = region_centre(placed);
  auto [y1, x1] = region_centre(moved);
  const double height = 2 * std::sqrt(budget * g * g * 1.2 / M_PI);  // kHeadAspect 1.2, area budget G^2 cells
  EXPECT_NEAR(y1 - y0, 0.25 * height, 0.01);  // the centroid of the region drawn on the cells, not its centre exactly
  EXPECT_NEAR(x1, x0, 1e-4);
  EXPECT_NEAR(moved.sum().item<double>(), placed.sum().item<double>(), 1e-3);
  auto [yu, xu] = region_centre(BlendAnonymizerImpl::head_region(where, budget, -0.25));
  EXPECT_NEAR(y0 - yu, 0.25 * height, 0.01);
}

}  // namespace scrim::nets
