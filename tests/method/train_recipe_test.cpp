// The named configurations of `scrim train` (scrim/method/train_recipe.h): each setting sets the field its flag
// names, to the value it shows, and nothing else; an unknown name is refused naming the known ones.
#include "scrim/method/train_recipe.h"

#include <functional>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "scrim/core/error.h"

namespace scrim {
namespace {

// "--hide-budget" -> "hide_budget": the config.json key of the field a flag sets.
std::string key_of(const std::string& flag) {
  std::string key = flag.substr(2);
  for (auto& c : key)
    if (c == '-') c = '_';
  return key;
}

TEST(TrainRecipe, EachSettingSetsTheFieldItsFlagNamesToTheValueItShows) {
  for (const auto& name : train_recipe_names()) {
    for (const auto& s : train_recipe(name)) {
      TrainOptions o;
      const auto before = to_json(o);
      s.apply(o);
      const auto after = to_json(o);
      const auto key = key_of(s.flag);
      ASSERT_TRUE(after.contains(key)) << name << ": " << s.flag;
      for (auto it = after.begin(); it != after.end(); ++it) {
        if (it.key() == key) continue;
        EXPECT_EQ(it.value(), before[it.key()]) << name << ": " << s.flag << " also set " << it.key();
      }
      EXPECT_NE(after[key], before[key]) << name << ": " << s.flag << " keeps the default";
      if (after[key].is_string()) {
        EXPECT_EQ(after[key].get<std::string>(), s.value) << name << ": " << s.flag;
      } else {
        EXPECT_DOUBLE_EQ(after[key].get<double>(), std::stod(s.value)) << name << ": " << s.flag;
      }
    }
  }
}

TEST(TrainRecipe, HeadIsTheFrontsHeadShapedHardEdgedRegionAndNamesItself) {
  TrainOptions o;
  apply_train_recipe("head", o);
  EXPECT_EQ(o.recipe, "head");
  EXPECT_EQ(o.anonymizer, "blend");
  EXPECT_EQ(o.hide_shape, "head");
  EXPECT_DOUBLE_EQ(o.hide_budget, 0.014);
  EXPECT_EQ(o.blend_edge, "hard:0.35");
  EXPECT_EQ(o.bank, "fill:value=fit");
  EXPECT_EQ(o.privacy_pretrain, 300);
  EXPECT_EQ(o.pareto, "preference");
  EXPECT_DOUBLE_EQ(o.preference, 0.9);
  EXPECT_EQ(to_json(o)["recipe"], "head");
}

// The flags the user gave keep their values; the recipe's grey pre-training fill is left out where its pre-training or
// its fitted fill was changed away (the trainer refuses a grey fill without both), and kept where the user asked for it.
TEST(TrainRecipe, TheFlagsGivenKeepTheirValuesAndTheGreyFillNeedsItsPretrainingAndFittedFill) {
  auto with = [](std::set<std::string> flags, const std::function<void(TrainOptions&)>& user) {
    TrainOptions o;
    user(o);
    apply_train_recipe("head", o, [&flags](const std::string& flag) { return flags.count(flag) > 0; });
    return o;
  };
  auto budget = with({"--hide-budget"}, [](TrainOptions& o) { o.hide_budget = 0.02; });
  EXPECT_DOUBLE_EQ(budget.hide_budget, 0.02);
  EXPECT_EQ(budget.pretrain_fill, "grey");
  auto no_pretraining = with({"--privacy-pretrain"}, [](TrainOptions& o) { o.privacy_pretrain = 0; });
  EXPECT_EQ(no_pretraining.privacy_pretrain, 0);
  EXPECT_EQ(no_pretraining.pretrain_fill, "fitted");
  auto other_bank = with({"--bank"}, [](TrainOptions& o) { o.bank = "blur:sigma=3,fill:value=0.5"; });
  EXPECT_EQ(other_bank.pretrain_fill, "fitted");
  auto fitted_among_others = with({"--bank"}, [](TrainOptions& o) { o.bank = "blur:sigma=3,fill:value=fit"; });
  EXPECT_EQ(fitted_among_others.pretrain_fill, "grey");
  auto asked = with({"--privacy-pretrain", "--pretrain-fill"}, [](TrainOptions& o) {
    o.privacy_pretrain = 0;
    o.pretrain_fill = "grey";
  });
  EXPECT_EQ(asked.pretrain_fill, "grey");  // the user's: the trainer will say why it cannot be
}

TEST(TrainRecipe, AnUnknownNameIsRefusedNamingTheRecipes) {
  try {
    train_recipe("best");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'best'"), std::string::npos) << what;
    EXPECT_NE(what.find("head"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace scrim
