// Where each part of a synthetic scene is drawn, in 112-unit scene space. The
// renderer draws from these positions, and the questions' evidence regions
// (where the answer can be read) come from the same numbers, so they agree.
#pragma once

#include <opencv2/core/types.hpp>

#include "data/synth/scene.h"

namespace scrim::synth {

// A person's joints at animation time t.
struct PersonLayout {
  double scale = 1.0, facing = 1.0;  // facing: +1 right, -1 left
  bool seated = false;
  double lift = 0;  // hips raised (jumping)
  cv::Point2d hip, neck;
  cv::Point2d shoulder_r, shoulder_l, hip_r, hip_l;  // right/left as drawn (swapped when facing left)
  cv::Point2d knee_r, foot_r, knee_l, foot_l;
  cv::Point2d elbow_r, hand_r, elbow_l, hand_l;
  cv::Point2d head;
  double head_radius = 0;
  cv::Point2d tag;  // name-tag centre (drawn only when the person wears one)
};
PersonLayout person_layout(const Person& p, double t);

// Bounding boxes (x, y, width, height) in scene units.
cv::Rect2d face_box(const PersonLayout& l);    // the face, hair cap and hat
cv::Rect2d tag_box(const PersonLayout& l);     // the name tag
cv::Rect2d torso_box(const PersonLayout& l);   // the shirt
cv::Rect2d person_box(const PersonLayout& l);  // the whole figure
cv::Rect2d object_box(const Object& o);
cv::Rect2d plate_box(const Object& car);
cv::Rect2d sign_box(const Sign& sign);

}  // namespace scrim::synth
