#include "scrim/method/train_recipe.h"

#include <cstdio>
#include <map>

#include "scrim/core/error.h"

namespace scrim {

namespace {

std::string text_of(const std::string& v) { return v; }
std::string text_of(int v) { return std::to_string(v); }
std::string text_of(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

template <class T, class V>
TrainRecipeSetting set(const char* flag, T TrainOptions::*field, V value) {
  const T typed = value;
  return {flag, text_of(typed), [field, typed](TrainOptions& o) { o.*field = typed; }};
}

// "head": the action task's front (docs/results.md, "The head-shaped front, on 1,500 fresh clips"). The
// control-space anonymizer hides a head-shaped 1.4% of each picture outright (a hard edge: nothing tints the
// shoulder a pointing arm starts from), filled with the colour of what it hides; a privacy-only pre-training
// against attackers trained with random erasing places it (no queries), then the game through the black box
// with most of the weight on privacy.
std::vector<TrainRecipeSetting> head_recipe() {
  return {set("--anonymizer", &TrainOptions::anonymizer, "blend"),
          set("--blend-grid", &TrainOptions::blend_grid, 28),
          set("--blend-stride", &TrainOptions::blend_stride, 4),
          set("--width", &TrainOptions::width, 16),
          set("--blend-context", &TrainOptions::blend_context, 4),
          set("--blend-upsample", &TrainOptions::blend_upsample, "guided"),
          set("--hide-shape", &TrainOptions::hide_shape, "head"),
          set("--hide-budget", &TrainOptions::hide_budget, 0.014),
          set("--blend-edge", &TrainOptions::blend_edge, "hard:0.35"),
          set("--bank", &TrainOptions::bank, "fill:value=fit"),
          set("--pretrain-fill", &TrainOptions::pretrain_fill, "grey"),
          set("--privacy-pretrain", &TrainOptions::privacy_pretrain, 300),
          set("--adversary-arch", &TrainOptions::adversary_arch, "resnet18"),
          set("--adversary-warmup", &TrainOptions::adversary_warmup, 600),
          set("--adversary-steps", &TrainOptions::adversary_steps, 4),
          set("--adversary-restart", &TrainOptions::adversary_restart, 0),
          set("--adversary-erasing", &TrainOptions::adversary_erasing, 4),
          set("--pareto", &TrainOptions::pareto, "preference"),
          set("--preference", &TrainOptions::preference, 0.9)};
}

const std::map<std::string, std::vector<TrainRecipeSetting>>& recipes() {
  static const std::map<std::string, std::vector<TrainRecipeSetting>> all = {{"head", head_recipe()}};
  return all;
}

}  // namespace

const std::vector<std::string>& train_recipe_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, settings] : recipes()) n.push_back(name);
    return n;
  }();
  return names;
}

const std::vector<TrainRecipeSetting>& train_recipe(const std::string& name) {
  auto it = recipes().find(name);
  if (it == recipes().end()) {
    std::string known;
    for (const auto& n : train_recipe_names()) known += (known.empty() ? "" : ", ") + n;
    throw UsageError("--recipe must be one of " + known + ", not '" + name + "'");
  }
  return it->second;
}

void apply_train_recipe(const std::string& name, TrainOptions& o, const std::function<bool(const std::string& flag)>& given) {
  auto user_gave = [&given](const std::string& flag) { return given && given(flag); };
  for (const auto& s : train_recipe(name))
    if (!user_gave(s.flag)) s.apply(o);
  o.recipe = name;
  if (o.pretrain_fill == "grey" && !user_gave("--pretrain-fill") && !pretrain_fill_applies(o)) o.pretrain_fill = "fitted";
}

}  // namespace scrim
