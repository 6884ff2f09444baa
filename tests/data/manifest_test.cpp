#include "scrim/data/manifest.h"

#include <gtest/gtest.h>

#include "scrim/core/error.h"
#include "test_util.h"

namespace scrim {
namespace {

const char* kHeader = R"({"scrim_manifest": 1, "name": "t", "label_sets": {"acts": ["run", "sit"]}, "attributes": ["a4_gender"]})";

std::string parse_error(const std::string& text) {
  try {
    parse_manifest(text, "m.jsonl", ".");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Manifest, RoundTripsEveryField) {
  testing::ScratchDir dir;
  std::string text = std::string(kHeader) + "\n" +
      R"({"id": "a", "split": "train", "media": {"images": ["i/a.png"]}, "task": {"type": "action", "label": "run", "label_set": "acts"},)"
      R"( "privacy": {"attributes": {"a4_gender": 1}, "identity": "ada", "text": ["OPEN"], "questions": [{"question": "Who?", "answers": ["ada"], "question_type": "identity", "evidence": [0.25, 0.5, 0.125, 0.25]}]}})" "\n"
      "\n"
      R"({"id": "b", "split": "test", "media": {"video": "v/b.mp4", "frames": [0, 4]}, "task": {"type": "vqa", "question": "What?", "answers": ["x", "y"], "question_type": "color"}})" "\n"
      R"({"id": "c", "split": "test", "media": {"images": ["c.png"]}})" "\n";
  testing::write_text(dir / "m.jsonl", text);
  Manifest m = read_manifest(dir / "m.jsonl");
  ASSERT_EQ(m.samples.size(), 3u);
  EXPECT_EQ(m.name, "t");
  EXPECT_EQ(m.labels_of(m.samples[0].task), (std::vector<std::string>{"run", "sit"}));
  EXPECT_EQ(m.samples[0].privacy.identity.value(), "ada");
  EXPECT_EQ(m.samples[0].privacy.questions[0].question_type, "identity");
  ASSERT_TRUE(m.samples[0].privacy.questions[0].evidence.has_value());
  EXPECT_EQ(m.samples[0].privacy.questions[0].evidence->y, 0.5);
  EXPECT_EQ(m.samples[0].privacy.questions[0].evidence->h, 0.25);
  EXPECT_FALSE(m.samples[1].task.vqa.evidence.has_value());
  EXPECT_EQ(m.samples[1].media.frames, (std::vector<int>{0, 4}));
  EXPECT_EQ(m.samples[1].task.vqa.answers.size(), 2u);
  EXPECT_EQ(m.samples[2].task.kind, Task::Kind::kNone);
  EXPECT_EQ(m.resolve("i/a.png"), dir / "i/a.png");
  EXPECT_EQ(m.split("test").size(), 2u);

  write_manifest(dir / "copy.jsonl", m);
  Manifest again = read_manifest(dir / "copy.jsonl");
  EXPECT_EQ(serialize_manifest(again), serialize_manifest(m));
}

TEST(Manifest, InlineLabelSetsAreShared) {
  Manifest m = parse_manifest(
      R"({"id": "a", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "action", "label": "x", "labels": ["x", "y"]}})" "\n"
      R"({"id": "b", "split": "train", "media": {"images": ["b.png"]}, "task": {"type": "action", "label": "y", "labels": ["x", "y"]}})",
      "m", ".");
  EXPECT_EQ(m.label_sets.size(), 1u);
  EXPECT_EQ(m.samples[0].task.label_set, m.samples[1].task.label_set);
}

TEST(Manifest, ErrorsNameLineAndField) {
  std::string ok = R"({"id": "a", "split": "train", "media": {"images": ["a.png"]}})";
  struct Case {
    std::string line;
    std::string expect;
  } cases[] = {
      {"{not json", "m.jsonl:2: malformed JSON"},
      {R"({"split": "train", "media": {"images": ["a.png"]}})", "m.jsonl:2: field 'id': missing"},
      {R"({"id": "b", "split": "tr ain", "media": {"images": ["a.png"]}})", "field 'split'"},
      {R"({"id": "b", "split": "train", "media": {}})", "field 'media': give exactly one"},
      {R"({"id": "b", "split": "train", "media": {"images": []}})", "field 'media.images': must not be empty"},
      {R"({"id": "b", "split": "train", "media": {"video": "v.mp4", "frames": [-1]}})", "field 'media.frames'"},
      {R"({"id": "a", "split": "train", "media": {"images": ["a.png"]}})", "field 'id': duplicate id 'a'"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "action", "label": "fly", "label_set": "acts"}})",
       "field 'task.label': 'fly' is not in label set"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "action", "label": "run", "label_set": "zzz"}})",
       "field 'task.label_set'"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "vqa", "question": "q", "answers": []}})",
       "field 'task.answers': must not be empty"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "caption"}})", "field 'task.type'"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "vqa", "question": "q", "answers": ["x"], "evidence": [0.1, 0.2]}})",
       "field 'task.evidence': expected [x, y, w, h]"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "vqa", "question": "q", "answers": ["x"], "evidence": [0.8, 0.2, 0.5, 0.1]}})",
       "field 'task.evidence': must be a non-empty rectangle inside the picture"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "task": {"type": "vqa", "question": "q", "answers": ["x"], "evidence": [0.1, "a", 0.5, 0.1]}})",
       "field 'task.evidence': expected four numbers"},
      {R"({"id": "b", "split": "train", "media": {"images": ["a.png"]}, "privacy": {"attributes": {"a4_gender": 2}}})",
       "field 'privacy.attributes.a4_gender': expected 0 or 1"},
      {"[1, 2]", "expected a JSON object"},
  };
  for (const auto& c : cases) {
    std::string text = std::string(kHeader) + "\n" + ok + "\n";
    // Put the bad line second, so a header line and a sample line precede it.
    text = ok + "\n" + c.line + "\n";
    text = std::string(kHeader) + "\n" + text;
    std::string err = parse_error(text);
    std::string expect = c.expect;
    // Line numbers count the header: the bad line is line 3.
    if (expect.rfind("m.jsonl:2", 0) == 0) expect.replace(0, 9, "m.jsonl:3");
    EXPECT_NE(err.find(expect), std::string::npos) << "line: " << c.line << "\nerror: " << err;
  }
  EXPECT_NE(parse_error(ok + "\n" + kHeader).find("header must be the first line"), std::string::npos);
}

TEST(Manifest, AThirtyThousandCharacterSplitIsAShortErrorNotACrash) {
  // std::regex_match recursed once per character here and overflowed the stack.
  for (char c : {'a', ' '}) {
    std::string split(30000, c);
    std::string err = parse_error(R"({"id": "a", "split": ")" + split + R"(", "media": {"images": ["a.png"]}})");
    EXPECT_NE(err.find("m.jsonl:1: field 'split'"), std::string::npos) << err.substr(0, 300);
    EXPECT_LT(err.size(), 300u) << err.substr(0, 300);
  }
}

TEST(Manifest, IntegersOutOfRangeAreRefusedNotWrapped) {
  const std::string images = R"("media": {"images": ["a.png"]})";
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      // 4294967297 = 2^32 + 1 wrapped to 1 through get<int>().
      {R"({"id": "a", "split": "t", "media": {"video": "v.mp4", "frames": [4294967297]}})",
       "field 'media.frames': expected frame indices from 0 to 2147483647, not 4294967297"},
      {R"({"id": "a", "split": "t", "media": {"video": "v.mp4", "frames": [18446744073709551615]}})",
       "field 'media.frames': expected frame indices from 0 to 2147483647, not 18446744073709551615"},
      {R"({"id": "a", "split": "t", "media": {"video": "v.mp4", "frames": [-1]}})", "field 'media.frames': expected frame indices from 0 to 2147483647, not -1"},
      {R"({"id": "a", "split": "t", )" + images + R"(, "privacy": {"attributes": {"a4_gender": 4294967297}}})",
       "field 'privacy.attributes.a4_gender': expected 0 or 1, not 4294967297"},
      {R"({"scrim_manifest": 4294967297})", "field 'scrim_manifest': expected version 1 (the version this scrim reads), not 4294967297"},
  };
  for (const auto& c : cases) {
    std::string err = parse_error(c.text);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.text << "\nerror: " << err;
  }
  Manifest m = parse_manifest(R"({"id": "a", "split": "t", "media": {"video": "v.mp4", "frames": [0, 2147483647]}})", "m", ".");
  EXPECT_EQ(m.samples[0].media.frames, (std::vector<int>{0, 2147483647}));
}

TEST(Manifest, OverlongFieldsGiveErrorsThatQuoteOnlyTheirStart) {
  std::string big(100000, 'x');
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {std::string(kHeader) + "\n" + R"({"id": "a", "split": "t", "media": {"images": ["a.png"]}, "task": {"type": "action", "label": ")" + big +
           R"(", "label_set": "acts"}})",
       "field 'task.label': 'xxxx"},
      {R"({"id": ")" + big + R"(", "split": "t", "media": {"images": ["a.png"]}})", "field 'id': 'xxxx"},
      {R"({"id": "a", "split": "t", "media": {"images": ["a.png"]}, "privacy": {"attributes": {")" + big + R"(": 1}}})",
       "field 'privacy.attributes.xxxx"},
      {R"({"id": "a", "split": "t", "media": {"images": ["a.png"]}, "task": {"type": ")" + big + R"("}})", "field 'task.type'"},
      {R"({"id": "a", "split": "t", "media": {"images": [")" + big + R"("]}})", "field 'media.images[0]'"},
      {R"({"id": "a", "split": "t", "media": {"images": ["a.png"]}, "oops": ")" + big, "malformed JSON"},
  };
  for (const auto& c : cases) {
    std::string err = parse_error(c.text);
    EXPECT_NE(err.find(c.expect), std::string::npos) << err.substr(0, 300);
    EXPECT_LT(err.size(), 400u) << err.substr(0, 400);
  }
  // A 10 MB line is refused as a whole, before it is parsed.
  std::string huge = R"({"id": "a", "split": "t", "media": {"images": ["a.png"]}, "task": {"type": "action", "label": ")" +
                     std::string(10 << 20, 'x') + R"(", "labels": ["x"]}})";
  std::string err = parse_error(huge);
  EXPECT_NE(err.find("m.jsonl:1: line of 10485"), std::string::npos) << err.substr(0, 300);
  EXPECT_LT(err.size(), 200u);
}

TEST(Manifest, RelocateRewritesPathsRelativeToTheNewFolder) {
  testing::ScratchDir dir;
  Manifest m = parse_manifest(R"({"id": "a", "split": "train", "media": {"images": ["img/a.png"]}})", "m", dir / "data");
  relocate_manifest(m, dir / "out");
  EXPECT_EQ(m.samples[0].media.images[0], "../data/img/a.png");
  EXPECT_EQ(m.resolve(m.samples[0].media.images[0]).lexically_normal(), (dir / "data/img/a.png").lexically_normal());
}

}  // namespace scrim
