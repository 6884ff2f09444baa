#include "data/synth/layout.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace scrim::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Absolute limb angles in degrees from straight down, positive toward the
// person's facing side. Upper arm, forearm (right then left), thigh, shin (right then left).
struct Pose {
  double arm_r[2], arm_l[2], leg_r[2], leg_l[2];
  double lift = 0;  // hips raised (jumping)
  double lean = 0;  // torso lean toward the facing side
  bool seated = false;
};

Pose pose_for(const Person& p, double t) {
  double ph = p.phase + 2 * kPi * t;
  double s = std::sin(ph);
  const auto& j = p.jitter;
  Pose q{};
  auto set = [](double* a, double upper, double lower) { a[0] = upper; a[1] = lower; };
  // Resting limbs; actions override what they move.
  set(q.arm_r, 15 + j[0], 10 + j[1]);
  set(q.arm_l, -15 + j[2], -10 + j[3]);
  set(q.leg_r, 7 + j[4] * 0.5, 4);
  set(q.leg_l, -7 + j[5] * 0.5, -4);
  switch (p.action) {
    case Action::kStanding:
      break;
    case Action::kWalking:
      set(q.leg_r, 24 * s, 24 * s - 10);
      set(q.leg_l, -24 * s, -24 * s - 10);
      set(q.arm_r, -18 * s + j[0] * 0.5, -18 * s + 12);
      set(q.arm_l, 18 * s + j[2] * 0.5, 18 * s + 12);
      break;
    case Action::kRunning:
      set(q.leg_r, 50 * s, 50 * s - 45);
      set(q.leg_l, -50 * s, -50 * s - 45);
      set(q.arm_r, -40 * s + j[0] * 0.5, -40 * s + 85);
      set(q.arm_l, 40 * s + j[2] * 0.5, 40 * s + 85);
      q.lean = 14;
      break;
    case Action::kSitting:
      set(q.leg_r, 88 + j[4] * 0.3, 4);
      set(q.leg_l, 84 + j[5] * 0.3, 0);
      set(q.arm_r, 25 + j[0] * 0.5, 80);
      set(q.arm_l, 20 + j[2] * 0.5, 75);
      q.seated = true;
      break;
    case Action::kWaving:
      set(q.arm_r, 130 + j[0], 175 + 28 * std::sin(2 * ph));
      break;
    case Action::kJumping:
      set(q.arm_r, 145 + j[0], 160 + j[1]);
      set(q.arm_l, -145 + j[2], -160 + j[3]);
      set(q.leg_r, 28, -8);
      set(q.leg_l, -28, 8);
      q.lift = 6 + 5 * std::abs(s);
      break;
    case Action::kClapping: {
      double c = 45 + 18 * std::sin(3 * ph);
      set(q.arm_r, 35 + j[0] * 0.5, -c);
      set(q.arm_l, -35 - j[0] * 0.5, c);
      break;
    }
    case Action::kPointing:
      set(q.arm_r, 90 + j[0] * 0.4, 90 + j[1] * 0.4);
      break;
  }
  return q;
}

cv::Point2d step(cv::Point2d from, double angle_deg, double length, double facing) {
  double a = angle_deg * kPi / 180.0;
  return {from.x + facing * std::sin(a) * length, from.y + std::cos(a) * length};
}

cv::Rect2d bounds(std::initializer_list<cv::Point2d> points, double margin) {
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (const auto& p : points) {
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  }
  return {x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin};
}

}  // namespace

PersonLayout person_layout(const Person& p, double t) {
  Pose q = pose_for(p, t);
  PersonLayout l;
  double s = p.scale, f = p.facing_left ? -1.0 : 1.0;
  l.scale = s, l.facing = f, l.seated = q.seated, l.lift = q.lift;
  double thigh = 12 * s, shin = 12 * s, upper = 10 * s, fore = 9 * s, torso = 19 * s, r = 6.5 * s;
  l.hip = {p.x, p.ground - (thigh + shin) + 1 * s - q.lift * s};
  if (q.seated) l.hip.y = p.ground - shin - 1 * s;
  double lean = q.lean * f * kPi / 180.0;
  l.neck = {l.hip.x + std::sin(lean) * torso, l.hip.y - std::cos(lean) * torso};
  l.shoulder_r = {l.neck.x + 4.5 * s, l.neck.y + 1.5 * s}, l.shoulder_l = {l.neck.x - 4.5 * s, l.neck.y + 1.5 * s};
  l.hip_r = {l.hip.x + 3 * s, l.hip.y}, l.hip_l = {l.hip.x - 3 * s, l.hip.y};
  if (p.facing_left) std::swap(l.shoulder_r, l.shoulder_l), std::swap(l.hip_r, l.hip_l);
  l.knee_r = step(l.hip_r, q.leg_r[0], thigh, f), l.foot_r = step(l.knee_r, q.leg_r[1], shin, f);
  l.knee_l = step(l.hip_l, q.leg_l[0], thigh, f), l.foot_l = step(l.knee_l, q.leg_l[1], shin, f);
  l.elbow_r = step(l.shoulder_r, q.arm_r[0], upper, f), l.hand_r = step(l.elbow_r, q.arm_r[1], fore, f);
  l.elbow_l = step(l.shoulder_l, q.arm_l[0], upper, f), l.hand_l = step(l.elbow_l, q.arm_l[1], fore, f);
  l.head = {l.neck.x, l.neck.y - 2 * s - r + 0.5 * s};
  l.head_radius = r;
  l.tag = {l.neck.x + (l.hip.x - l.neck.x) * 0.35, l.neck.y + (l.hip.y - l.neck.y) * 0.42};
  return l;
}

cv::Rect2d face_box(const PersonLayout& l) {
  double r = l.head_radius;
  return {l.head.x - 1.1 * r, l.head.y - 1.25 * r, 2.2 * r, 2.3 * r};
}

cv::Rect2d tag_box(const PersonLayout& l) {
  double s = l.scale;
  return {l.tag.x - 5.5 * s, l.tag.y - 2.4 * s, 11 * s, 4.8 * s};
}

cv::Rect2d torso_box(const PersonLayout& l) {
  return bounds({l.shoulder_r, l.shoulder_l, l.hip_r, l.hip_l}, 1.5 * l.scale);
}

cv::Rect2d person_box(const PersonLayout& l) {
  double s = l.scale;
  cv::Point2d toe_r(l.foot_r.x + 2.2 * s * l.facing, l.foot_r.y), toe_l(l.foot_l.x + 2.2 * s * l.facing, l.foot_l.y);
  cv::Rect2d body = bounds({l.neck, l.shoulder_r, l.shoulder_l, l.hip_r, l.hip_l, l.knee_r, l.knee_l, toe_r, toe_l,
                            l.elbow_r, l.elbow_l, l.hand_r, l.hand_l},
                           1.5 * s);
  return body | face_box(l);
}

cv::Rect2d object_box(const Object& o) {
  switch (o.kind) {
    case ObjectKind::kBall: return {o.x - 3.5, o.y - 7, 7, 7};
    case ObjectKind::kCup: return {o.x - 2.8, o.y - 6, 7.5, 6};
    case ObjectKind::kBag: return {o.x - 3.5, o.y - 8.2, 7, 8.2};
    case ObjectKind::kKite: return {o.x - 3.8, o.y - 5.5, 7.6, 18.5};
    case ObjectKind::kCar: return {o.x, o.y - 15, 27, 15};
  }
  return {o.x, o.y, 1, 1};
}

cv::Rect2d plate_box(const Object& car) { return {car.x + 7.5, car.y - 8.6, 12, 4.4}; }

cv::Rect2d sign_box(const Sign& sign) { return {sign.x, sign.y, 7 + 6.0 * sign.word.size(), 11}; }

}  // namespace scrim::synth
