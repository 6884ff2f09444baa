// Merging manifests (a task set beside a privacy set), picking each part's
// samples, thinning and re-splitting.
#include "scrim/data/manifest_merge.h"

#include <gtest/gtest.h>

#include "scrim/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

Sample image_sample(const std::string& id, const std::string& split, const std::string& image) {
  Sample s;
  s.id = id;
  s.split = split;
  s.media.images = {image};
  return s;
}

Sample action_sample(const std::string& id, const std::string& split, const std::string& video, const std::string& label,
                     const std::string& set) {
  Sample s;
  s.id = id;
  s.split = split;
  s.media.video = video;
  s.task.kind = Task::Kind::kAction;
  s.task.label = label;
  s.task.label_set = set;
  return s;
}

// prefix + i, appended (GCC 12 warns falsely on "literal" + std::string&&).
std::string named(const char* prefix, int i) {
  std::string s = prefix;
  s += std::to_string(i);
  return s;
}

const Sample& by_id(const Manifest& m, const std::string& id) {
  for (const auto& s : m.samples)
    if (s.id == id) return s;
  throw std::runtime_error("no sample " + id);
}

std::vector<std::string> ids(const Manifest& m) {
  std::vector<std::string> out;
  for (const auto& s : m.samples) out.push_back(s.id);
  return out;
}

}  // namespace

TEST(ManifestMerge, PathsResolveAgainstEachSourceAndAttributesUnion) {
  testing::ScratchDir d;
  // Two manifests in different folders, read back from disk as the CLI does.
  Manifest actions;
  actions.label_sets["ucf101"] = {"Archery", "Fencing"};
  actions.samples.push_back(action_sample("v1", "train", "videos/Archery/v1.avi", "Archery", "ucf101"));
  actions.samples.push_back(action_sample("v2", "test", "/abs/Fencing/v2.avi", "Fencing", "ucf101"));
  actions.base_dir = d / "imports";
  write_manifest(d / "imports/ucf101.jsonl", actions);
  Manifest privacy;
  privacy.attributes = {"a4_gender", "a17_color"};
  auto p = image_sample("2017_1", "train", "../vispr/images/2017_1.jpg");
  p.privacy.attributes = {{"a4_gender", 1}, {"a17_color", 0}};
  privacy.samples.push_back(p);
  auto q = image_sample("2017_2", "test", "../vispr/images/2017_2.jpg");
  q.privacy.attributes = {{"a4_gender", 0}, {"a17_color", 1}, {"a9_face_complete", 1}};
  privacy.samples.push_back(q);
  privacy.base_dir = d / "imports/sub";
  write_manifest(d / "imports/sub/vispr.jsonl", privacy);

  Manifest m = merge_manifests({{read_manifest(d / "imports/ucf101.jsonl"), "ucf101.jsonl"},
                                {read_manifest(d / "imports/sub/vispr.jsonl"), "vispr.jsonl"}},
                               d / "setting", "ucf101-vispr");
  EXPECT_EQ(ids(m), (std::vector<std::string>{"v1", "v2", "2017_1", "2017_2"}));
  EXPECT_EQ(m.attributes, (std::vector<std::string>{"a4_gender", "a17_color"}));
  EXPECT_EQ(m.label_sets.at("ucf101"), (std::vector<std::string>{"Archery", "Fencing"}));
  // Written under setting/ and read back, every path points where its source's did.
  write_manifest(d / "setting/data.jsonl", m);
  Manifest back = read_manifest(d / "setting/data.jsonl");
  auto canonical = [](const fs::path& x) { return fs::weakly_canonical(fs::absolute(x)); };
  EXPECT_EQ(canonical(back.resolve(by_id(back, "v1").media.video)), canonical(d / "imports/videos/Archery/v1.avi"));
  EXPECT_EQ(canonical(back.resolve(by_id(back, "v2").media.video)), fs::path("/abs/Fencing/v2.avi"));
  EXPECT_EQ(canonical(back.resolve(by_id(back, "2017_1").media.images[0])), canonical(d / "imports/vispr/images/2017_1.jpg"));
  EXPECT_EQ(by_id(back, "2017_2").privacy.attributes.at("a9_face_complete"), 1);
  EXPECT_EQ(by_id(back, "v1").task.label, "Archery");
}

TEST(ManifestMerge, ADuplicateIdNamesBothSources) {
  testing::ScratchDir d;
  Manifest a, b;
  a.samples.push_back(image_sample("x", "train", "a.jpg"));
  b.samples.push_back(image_sample("y", "train", "b.jpg"));
  b.samples.push_back(image_sample("x", "test", "c.jpg"));
  a.base_dir = b.base_dir = d.path();
  try {
    merge_manifests({{a, "hmdb51.jsonl"}, {b, "pa-hmdb51.jsonl"}}, d.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate id 'x': hmdb51.jsonl and pa-hmdb51.jsonl"), std::string::npos) << e.what();
  }
  // A prefix on the privacy part keeps both.
  EXPECT_EQ(merge_manifests({{a, "a"}, {privacy_samples(b, "p-"), "b"}}, d.path()).samples.size(), 1u);  // b has no labels
  b.samples[1].privacy.attributes["a4_gender"] = 1;
  EXPECT_EQ(ids(merge_manifests({{a, "a"}, {privacy_samples(b, "p-"), "b"}}, d.path())), (std::vector<std::string>{"x", "p-x"}));
}

TEST(ManifestMerge, LabelSetsOfTheSameNameKeepTheirOwnLabels) {
  testing::ScratchDir d;
  Manifest a, b;
  a.label_sets["actions"] = {"run", "jump"};
  b.label_sets["actions"] = {"wave", "clap"};
  a.samples.push_back(action_sample("a1", "train", "a.avi", "jump", "actions"));
  b.samples.push_back(action_sample("b1", "train", "b.avi", "clap", "actions"));
  a.base_dir = b.base_dir = d.path();
  Manifest m = merge_manifests({{a, "a"}, {b, "b"}}, d.path());
  EXPECT_EQ(m.labels_of(by_id(m, "a1").task), (std::vector<std::string>{"run", "jump"}));
  EXPECT_EQ(m.labels_of(by_id(m, "b1").task), (std::vector<std::string>{"wave", "clap"}));
  // One list under one name in two parts is kept once.
  Manifest c = a;
  c.samples[0].id = "c1";
  Manifest twice = merge_manifests({{a, "a"}, {c, "c"}}, d.path());
  EXPECT_EQ(twice.label_sets.size(), 1u);
  EXPECT_EQ(by_id(twice, "c1").task.label_set, "actions");
}

TEST(ManifestMerge, TaskAndPrivacyParts) {
  Manifest okvqa;
  okvqa.attributes = {"a4_gender"};
  for (int i = 0; i < 3; ++i) {
    auto s = image_sample(named("q", i), "test", i < 2 ? "val2014/one.jpg" : "val2014/two.jpg");
    s.task.kind = Task::Kind::kVqa;
    s.task.vqa.question = "What?";
    s.task.vqa.answers = {"x"};
    s.privacy.attributes["a4_gender"] = i < 2 ? 1 : 0;
    okvqa.samples.push_back(s);
  }
  okvqa.samples.push_back(image_sample("unlabelled", "test", "val2014/three.jpg"));
  Manifest t = task_samples(okvqa);
  EXPECT_EQ(ids(t), (std::vector<std::string>{"q0", "q1", "q2"}));
  for (const auto& s : t.samples) EXPECT_TRUE(s.privacy.attributes.empty());
  EXPECT_TRUE(t.attributes.empty());
  // One privacy sample per image: the two questions on one.jpg share it.
  Manifest p = privacy_samples(okvqa, "image-");
  EXPECT_EQ(ids(p), (std::vector<std::string>{"image-q0", "image-q2"}));
  for (const auto& s : p.samples) EXPECT_EQ(s.task.kind, Task::Kind::kNone);
  EXPECT_EQ(by_id(p, "image-q0").privacy.attributes.at("a4_gender"), 1);
  EXPECT_EQ(p.attributes, okvqa.attributes);
}

TEST(ManifestMerge, ThinSplitsKeepsEveryKthSample) {
  Manifest m;
  for (int i = 0; i < 10; ++i) m.samples.push_back(image_sample(named("tr", i), "train", "x.jpg"));
  for (int i = 0; i < 3; ++i) m.samples.push_back(image_sample(named("te", i), "test", "x.jpg"));
  thin_splits(m, {{"train", 4}, {"test", 5}, {"val", 1}});
  EXPECT_EQ(ids(m), (std::vector<std::string>{"tr0", "tr2", "tr5", "tr7", "te0", "te1", "te2"}));
  thin_splits(m, {{"train", 0}});
  EXPECT_EQ(m.samples.size(), 7u);
}

TEST(ManifestMerge, SplitByMediaKeepsAnImagesQuestionsTogether) {
  Manifest m;
  for (int i = 0; i < 40; ++i) m.samples.push_back(image_sample(named("q", i), "test", named("img", i / 2) + ".jpg"));
  m.samples.push_back(image_sample("other", "val", "img0.jpg"));
  Manifest again = m;
  split_by_media(m, m.samples.front().split, 0.5);  // a split named by a sample that moves
  int train = 0;
  for (size_t i = 0; i + 1 < m.samples.size(); i += 2) {
    EXPECT_EQ(m.samples[i].split, m.samples[i + 1].split) << i;
    EXPECT_TRUE(m.samples[i].split == "train" || m.samples[i].split == "test");
    train += m.samples[i].split == "train";
  }
  EXPECT_EQ(train, 10);  // 10 of the 20 images
  EXPECT_EQ(m.samples.back().split, "val");
  // The choice depends on the media, not on the order.
  std::reverse(again.samples.begin(), again.samples.end());
  split_by_media(again, "test", 0.5);
  for (const auto& s : again.samples)
    if (s.id != "other") {
      EXPECT_EQ(s.split, by_id(m, s.id).split) << s.id;
    }
  // Two images: one each way even at an extreme fraction.
  Manifest two;
  two.samples = {image_sample("a", "test", "a.jpg"), image_sample("b", "test", "b.jpg")};
  split_by_media(two, "test", 0.99);
  EXPECT_NE(two.samples[0].split, two.samples[1].split);
}

}  // namespace scrim
