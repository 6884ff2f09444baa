#include "scrim/data/synth.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "data/synth/layout.h"
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

// Models fitted on one data set can be evaluated on a larger test split of the same seed (docs/results.md,
// "a ninth look"): every sample is drawn from its own split and index, not from how many come before it.
TEST(Synth, ALargerTestSplitKeepsTheTrainingSamplesAndTheFirstTestSamples) {
  testing::ScratchDir d;
  SynthOptions o;
  o.train = 6;
  o.test = 2;
  o.seed = 42;
  o.size = 96;
  o.out = d / "small";
  generate_synth(o);
  o.test = 5;
  o.out = d / "large";
  generate_synth(o);
  for (const char* f : {"images/train/train-000000.png", "images/train/train-000005.png", "images/test/test-000001.png"})
    EXPECT_EQ(testing::read_text(d / "small" / f), testing::read_text(d / "large" / f)) << f;
  for (const char* name : {"actions.jsonl", "vqa.jsonl"}) {
    const auto small = read_manifest(d / "small" / name), large = read_manifest(d / "large" / name);
    ASSERT_GT(large.samples.size(), small.samples.size()) << name;
    for (const auto& s : small.samples) {
      const auto same = std::find_if(large.samples.begin(), large.samples.end(), [&](const Sample& l) { return l.id == s.id; });
      ASSERT_NE(same, large.samples.end()) << s.id;
      EXPECT_EQ(s.task.label, same->task.label) << s.id;
      EXPECT_EQ(s.task.vqa.question, same->task.vqa.question) << s.id;
      EXPECT_EQ(s.task.vqa.answers, same->task.vqa.answers) << s.id;
      EXPECT_EQ(s.privacy.attributes, same->privacy.attributes) << s.id;
    }
  }
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

// The pixels that change when a part is drawn lie inside the part's evidence
// box (scene units; at 224 px, 2 px of anti-aliasing and thick strokes allowed
// on each side, and the far edge is drawn inclusively), and some do change.
void expect_change_inside(const cv::Mat& with, const cv::Mat& without, const cv::Rect2d& box, const char* what) {
  cv::Mat diff, mask;
  cv::absdiff(with, without, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  mask = diff > 8;
  ASSERT_GT(cv::countNonZero(mask), 0) << what << " draws nothing";
  cv::Rect changed = cv::boundingRect(mask);
  double k = with.cols / 112.0;
  EXPECT_GE(changed.x, box.x * k - 2) << what;
  EXPECT_GE(changed.y, box.y * k - 2) << what;
  EXPECT_LE(changed.x + changed.width, (box.x + box.width) * k + 3) << what;
  EXPECT_LE(changed.y + changed.height, (box.y + box.height) * k + 3) << what;
}

TEST(Synth, EvidenceRegionsCoverWhatTheyName) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    Rng rng(seed);
    synth::Scene s = synth::sample_scene(rng);
    s.people.resize(1);  // nothing in front of the main person
    s.objects.resize(1);
    synth::Person& p = s.people[0];
    p.hat = false;
    p.identity = 2 * static_cast<int>(seed % 10) + 1;  // short hair: the head is all there is of the face
    double t = 0.1 * static_cast<double>(seed % 8);
    synth::PersonLayout layout = synth::person_layout(p, t);
    cv::Mat with, without;
    s.has_sign = true;
    s.sign = {"HOTEL", 4.0 + 5.0 * static_cast<double>(seed), 10, 1};
    synth::render_scene(s, 224, t, with);
    s.has_sign = false;
    synth::render_scene(s, 224, t, without);
    expect_change_inside(with, without, synth::sign_box(s.sign), "the sign");

    p.face = synth::FaceView::kComplete;
    p.name_tag = true;
    synth::render_scene(s, 224, t, with);
    p.name_tag = false;
    synth::render_scene(s, 224, t, without);
    expect_change_inside(with, without, synth::tag_box(layout), "the name tag");

    synth::render_scene(s, 224, t, with);
    p.face = synth::FaceView::kAway;  // the back of the head: no face
    synth::render_scene(s, 224, t, without);
    p.face = synth::FaceView::kComplete;
    expect_change_inside(with, without, synth::face_box(layout), "the face");

    synth::Scene empty = s;
    empty.objects.clear();
    synth::render_scene(s, 224, t, with);
    synth::render_scene(empty, 224, t, without);
    expect_change_inside(with, without, synth::object_box(s.objects[0]), synth::object_name(s.objects[0].kind));
  }
}

// "Who is the person in the middle?" is asked of every picture, so every view
// must show who it is: facing away, with a hat, behind a mask, each of the 20
// people renders differently (from behind: the hair, and the skin of the neck
// and hands). Some pairs differ in a few pixels only (under a hat and a mask,
// where the eyes are all that is left: README), which is what makes identity
// the hardest question of the benchmark.
TEST(Synth, EveryViewOfAPersonShowsWhoItIs) {
  Rng rng(11);
  synth::Scene s = synth::sample_scene(rng);
  s.people.resize(1);
  s.objects.clear();
  s.has_sign = false;
  synth::Person& p = s.people[0];
  p.name_tag = false;
  for (auto view : {synth::FaceView::kComplete, synth::FaceView::kPartial, synth::FaceView::kAway})
    for (bool hat : {false, true}) {
      p.face = view;
      p.hat = hat;
      std::vector<cv::Mat> pictures;
      int fewest = 1 << 30;
      for (int id = 0; id < 20; ++id) {
        p.identity = id;
        cv::Mat img;
        synth::render_scene(s, 112, 0.0, img);
        for (size_t other = 0; other < pictures.size(); ++other) {
          cv::Mat d;
          cv::absdiff(pictures[other], img, d);
          cv::cvtColor(d, d, cv::COLOR_BGR2GRAY);
          int differ = cv::countNonZero(d > 10);
          fewest = std::min(fewest, differ);
          EXPECT_GE(differ, 1) << "people " << other << " and " << id << " look alike, view " << static_cast<int>(view)
                               << (hat ? " with a hat" : "");
        }
        pictures.push_back(img);
      }
      std::printf("view %d%s: the closest two people differ in %d pixels\n", static_cast<int>(view), hat ? " + hat" : "", fewest);
    }
}

TEST(Synth, QuestionsCarryTheirEvidence) {
  testing::ScratchDir d;
  SynthOptions o;
  o.train = 40;
  o.test = 0;
  o.out = d / "s";
  auto summary = generate_synth(o);
  auto inside = [](const Region& r) { return r.x >= 0 && r.y >= 0 && r.w > 0 && r.h > 0 && r.x + r.w <= 1 && r.y + r.h <= 1; };
  for (const auto& s : read_manifest(summary.actions_manifest).samples)
    for (const auto& q : s.privacy.questions) {
      ASSERT_TRUE(q.evidence.has_value()) << s.id << " " << q.question_type;
      EXPECT_TRUE(inside(*q.evidence)) << s.id;
    }
  for (const auto& s : read_manifest(summary.vqa_manifest).samples) {
    const VqaItem& q = s.task.vqa;
    // Counting has no single place to look, and neither has "no, there is no kite".
    bool expected = q.question_type != "count" && !(q.question_type == "presence" && q.answers[0] == "no");
    EXPECT_EQ(q.evidence.has_value(), expected) << s.id << " " << q.question_type;
    if (q.evidence) {
      EXPECT_TRUE(inside(*q.evidence)) << s.id;
    }
  }
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
