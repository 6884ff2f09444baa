// The named configurations of `scrim train` (scrim/method/train_recipe.h): each setting sets the field its flag
// names, to the value it shows, and nothing else; an unknown name is refused naming the known ones.
#include "scrim/method/train_recipe.h"

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
