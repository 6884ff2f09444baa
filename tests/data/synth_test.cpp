#include "scrim/data/synth.h"

#include <set>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "data/synth/scene.h"
#include "scrim/core/error.h"
#include "scrim/data/manifest.h"
#include "scrim/media/image_io.h"
#include "scrim/media/video_io.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {

TEST(Synth, DeterministicForASeed) {
  testing::ScratchDir d;
  SynthOptions o;
  o.train = 12;
  o.test = 4;
  o.seed = 42;
  o.size = 96;
  o.out = d / "a";
  generate_synth(o);
  o.out = d / "b";
  o.threads = 1;  // a different thread count must not change anything
  generate_synth(o);
  for (const char* f : {"actions.jsonl", "vqa.jsonl", "images/train/train-000007.png", "images/test/test-000003.png"})
    EXPECT_EQ(testing::read_text(d / "a" / f), testing::read_text(d / "b" / f)) << f;
  o.out = d / "c";
  o.seed = 43;
  generate_synth(o);
  EXPECT_NE(testing::read_text(d / "a/actions.jsonl"), testing::read_text(d / "c/actions.jsonl"));
}

TEST(Synth, ManifestsAgreeWithTheScenes) {
  testing::ScratchDir d;
  SynthOptions o;
  o.train = 60;
  o.test = 20;
  o.out = d / "s";
  auto summary = generate_synth(o);
  Manifest actions = read_manifest(summary.actions_manifest);
  Manifest vqa = read_manifest(summary.vqa_manifest);
  ASSERT_EQ(actions.samples.size(), 80u);
  EXPECT_EQ(vqa.samples.size(), 80u * 5);
  EXPECT_EQ(actions.split("train").size(), 60u);
  std::set<std::string> labels, qtypes;
  for (const auto& s : actions.samples) {
    labels.insert(s.task.label);
    const auto& a = s.privacy.attributes;
    EXPECT_LE(a.at("a9_face_complete") + a.at("a10_face_partial"), 1) << s.id;
    EXPECT_EQ(a.at("a17_color"), a.at("a9_face_complete") + a.at("a10_face_partial")) << s.id;
    EXPECT_EQ(a.at("text_legible"), s.privacy.texts.empty() ? 0 : 1) << s.id;
    ASSERT_TRUE(s.privacy.identity.has_value());
    EXPECT_EQ(s.privacy.questions[0].answers[0], *s.privacy.identity);
    cv::Mat img = read_image(actions.resolve(s.media.images[0]));
    EXPECT_EQ(img.cols, 112);
  }
  for (const auto& s : vqa.samples) {
    qtypes.insert(s.task.vqa.question_type);
    EXPECT_EQ(s.task.vqa.answers.size(), 10u);
  }
  EXPECT_GE(labels.size(), 7u);  // 8 classes; 80 draws miss one with probability < 0.001
  EXPECT_EQ(qtypes, (std::set<std::string>{"action", "object_color", "count", "presence", "clothing_color"}));
}

TEST(Synth, PoseChangesThePictureAndFaceEncodesIdentity) {
  // Same scene, different action for the main person: the pixels must differ.
  Rng rng(5);
  synth::Scene s = synth::sample_scene(rng);
  s.people.resize(1);
  cv::Mat a, b, c;
  s.people[0].action = synth::Action::kStanding;
  synth::render_scene(s, 112, 0, a);
  s.people[0].action = synth::Action::kWaving;
  synth::render_scene(s, 112, 0, b);
  EXPECT_GT(cv::norm(a, b, cv::NORM_L1), 1000);
  s.people[0].action = synth::Action::kStanding;
  s.people[0].identity = (s.people[0].identity + 1) % 20;
  synth::render_scene(s, 112, 0, c);
  EXPECT_GT(cv::norm(a, c, cv::NORM_L1), 200);
}

TEST(Synth, ClipsAreVideosWithTheRequestedFrames) {
  testing::ScratchDir d;
  SynthOptions o;
  o.train = 3;
  o.test = 1;
  o.clips = 8;
  o.out = d / "v";
  generate_synth(o);
  Manifest m = read_manifest(d / "v/actions.jsonl");
  const auto& s = m.samples[0];
  ASSERT_TRUE(s.media.is_video());
  EXPECT_EQ(s.media.frames.size(), 8u);
  auto frames = read_video(m.resolve(s.media.video), FrameSampling::all());
  EXPECT_EQ(frames.frames.size(), 8u);
  EXPECT_NEAR(frames.fps, 8.0, 0.01);
  // The motion is animated: first and middle frames differ.
  EXPECT_GT(cv::norm(frames.frames[0], frames.frames[4], cv::NORM_L1), 500);
}

TEST(Synth, RefusesToClobberAndLeavesNothingPartial) {
  testing::ScratchDir d;
  testing::write_text(d / "busy/keep.txt", "mine");
  SynthOptions o;
  o.train = 2;
  o.test = 1;
  o.out = d / "busy";
  EXPECT_THROW(generate_synth(o), Error);
  EXPECT_EQ(testing::read_text(d / "busy/keep.txt"), "mine");
  o.clips = 3;
  o.out = d / "bad";
  EXPECT_THROW(generate_synth(o), UsageError);
  EXPECT_FALSE(fs::exists(d / "bad"));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(d.path())) entries += e.path().filename() != "busy";
  EXPECT_EQ(entries, 0);
}

}  // namespace scrim
