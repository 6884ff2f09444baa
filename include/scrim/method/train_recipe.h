// Named configurations of `scrim train`: the ones docs/results.md measured best, so that a user trains the winning
// anonymizer with one flag (`scrim train --recipe head`) instead of twenty, and the demo, bench/front.sh and the docs
// train the same thing. Each setting names the `scrim train` flag it stands for; a flag the user gives wins over the
// recipe's value (`--recipe head --hide-budget 0.02`).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "scrim/method/trainer.h"

namespace scrim {

struct TrainRecipeSetting {
  std::string flag;   // the `scrim train` option it stands for, e.g. "--hide-budget"
  std::string value;  // its value as that option takes it, e.g. "0.014"
  std::function<void(TrainOptions&)> apply;
};

// The recipes' names, for --help and the option's check.
const std::vector<std::string>& train_recipe_names();
// The settings of recipe `name`; UsageError naming the recipes for any other name.
const std::vector<TrainRecipeSetting>& train_recipe(const std::string& name);
// The settings of recipe `name` applied to `o`, but for those whose flag `given` says the user gave (their values are
// the user's), and `o.recipe` set to its name. A setting that only applies beside others is left out where those
// were changed: the recipe's grey pre-training fill needs its pre-training and its fitted fill (without either, the
// fill is fitted, scrim train's default). No `given`: every setting applies.
void apply_train_recipe(const std::string& name, TrainOptions& o, const std::function<bool(const std::string& flag)>& given = {});

}  // namespace scrim
