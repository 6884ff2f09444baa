// Scene description for the synthetic benchmark: what is in a picture, sampled
// from a seed; rendering (render.cpp) turns it into pixels, and the labels and
// questions (scene.cpp) come from the same description, so they always agree.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

#include "scrim/core/rng.h"
#include "scrim/data/manifest.h"

namespace scrim::synth {

enum class Action { kStanding, kWalking, kRunning, kSitting, kWaving, kJumping, kClapping, kPointing };
inline constexpr int kNumActions = 8;

enum class FaceView { kComplete, kPartial, kAway };  // partial: occluded by a mask band

struct NamedColor {
  const char* name;
  cv::Scalar bgr;
};
const std::vector<NamedColor>& palette();  // object and shirt colours, each with its answer word

// A face identity: the features that make a person recognisable.
struct Identity {
  std::string name;
  int skin_tone;   // index into skin_tones()
  int hair_color;  // index into hair_colors()
  bool long_hair;
  int eye_style;   // 0 dots, 1 wide, 2 glasses
  int mouth_style; // 0 line, 1 smile, 2 open
  bool beard;
  bool brows;
};
const std::vector<Identity>& identities();
const std::vector<cv::Scalar>& skin_tones();
const std::vector<cv::Scalar>& hair_colors();

struct Person {
  int identity = 0;
  Action action = Action::kStanding;
  double x = 56;       // hip centre, in 112-px scene units
  double ground = 98;  // y of the feet
  double scale = 1.0;
  bool facing_left = false;
  FaceView face = FaceView::kComplete;
  bool hat = false;
  int shirt = 0;       // palette index
  int pants = 0;       // index into pants colours
  bool name_tag = false;
  double phase = 0.0;  // animation phase offset, radians
  std::array<double, 8> jitter{};  // per-joint angle jitter, degrees
};

enum class ObjectKind { kBall, kCup, kCar, kBag, kKite };
inline constexpr int kNumObjectKinds = 5;
const char* object_name(ObjectKind kind);

struct Object {
  ObjectKind kind;
  int color;  // palette index
  double x, y;
  std::string plate;  // cars only
};

struct Sign {
  std::string word;
  double x, y;
  int color;
};

struct Scene {
  int background = 0;  // style index
  cv::Scalar sky, ground;
  std::vector<cv::Rect2d> buildings;
  std::vector<cv::Scalar> building_colors;
  std::vector<Person> people;  // people[0] is the main person: centred and largest
  std::vector<Object> objects;
  bool has_sign = false;
  Sign sign;
};

// Samples a scene; all randomness comes from `rng`.
Scene sample_scene(Rng& rng);

// Labels: action task, VQA questions, privacy labels and privacy questions,
// each question with its evidence region. The VQA questions are about the still
// picture (time 0); the privacy questions' regions cover the figure at every
// one of `times` (a clip's frames).
std::string action_name(Action a);
std::vector<VqaItem> task_questions(const Scene& scene, Rng& rng);
PrivacyLabels privacy_labels(const Scene& scene, const std::vector<double>& times);

// Draws the scene at `size` pixels, at animation time t in [0, 1).
void render_scene(const Scene& scene, int size, double t, cv::Mat& out);

}  // namespace scrim::synth
