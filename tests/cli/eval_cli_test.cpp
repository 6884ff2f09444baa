// `scrim eval` end to end: the summary table a user reads.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "reference/reference_fixture.h"
#include "test_util.h"

namespace scrim {

TEST(EvalCli, TableShowsLeakageAndTheFloor) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  const auto out = d / "stdout.txt";
  std::string cmd = std::string(SCRIM_BINARY) + " -q eval --data " + (t.dir / "synth/actions.jsonl").string() + " --mllm reference:" +
                    t.model_file.string() + " --out " + (d / "eval").string() +
                    " --attackers small --attacker-epochs 1 --attacker-seeds 2 --independent-samples 0 --protector raw pixelate:block=8 > " +
                    out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string table = testing::read_text(out);
  EXPECT_NE(table.find("leakage   lk-max"), std::string::npos) << table;
  // raw's leakage is 1 by definition, from the mean and from the strongest seed.
  EXPECT_NE(table.find("    1.000    1.000"), std::string::npos) << table;
  EXPECT_NE(table.find("floor (an attacker that reads nothing): cMAP "), std::string::npos) << table;
}

}  // namespace scrim
