// Drawing of synthetic scenes. Coordinates are in 112-unit scene space and
// scaled to the output size; OpenCV's sub-pixel `shift` keeps thin limbs
// smooth at every size.
#include <algorithm>
#include <cctype>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "data/synth/scene.h"

namespace scrim::synth {
namespace {

constexpr int kShift = 4;  // sub-pixel bits for OpenCV drawing
constexpr double kPi = 3.14159265358979323846;

struct Canvas {
  cv::Mat& img;
  double k;  // pixels per scene unit
  cv::Point p(double x, double y) const {
    return {static_cast<int>(std::lround(x * k * (1 << kShift))), static_cast<int>(std::lround(y * k * (1 << kShift)))};
  }
  int len(double units) const { return std::max(1, static_cast<int>(std::lround(units * k * (1 << kShift)))); }
  int thick(double units) const { return std::max(1, static_cast<int>(std::lround(units * k))); }
  void line(double x0, double y0, double x1, double y1, const cv::Scalar& c, double w) const {
    cv::line(img, p(x0, y0), p(x1, y1), c, thick(w), cv::LINE_AA, kShift);
  }
  void disc(double x, double y, double r, const cv::Scalar& c) const {
    cv::circle(img, p(x, y), len(r), c, cv::FILLED, cv::LINE_AA, kShift);
  }
  void ring(double x, double y, double r, const cv::Scalar& c, double w) const {
    cv::circle(img, p(x, y), len(r), c, thick(w), cv::LINE_AA, kShift);
  }
  void rect(double x, double y, double w, double h, const cv::Scalar& c) const {
    cv::rectangle(img, p(x, y), p(x + w, y + h), c, cv::FILLED, cv::LINE_AA, kShift);
  }
  void ellipse(double x, double y, double rx, double ry, double a0, double a1, const cv::Scalar& c, int thickness) const {
    cv::ellipse(img, p(x, y), cv::Size(len(rx), len(ry)), 0, a0, a1, c, thickness, cv::LINE_AA, kShift);
  }
  void poly(const std::vector<cv::Point2d>& pts, const cv::Scalar& c) const {
    std::vector<cv::Point> q;
    for (const auto& pt : pts) q.push_back(p(pt.x, pt.y));
    cv::fillConvexPoly(img, q, c, cv::LINE_AA, kShift);
  }
  // Text centred in a box of height `h` units; the font scale fits the box.
  void text(const std::string& s, double cx, double cy, double h, const cv::Scalar& c, double max_w) const {
    int base = 0;
    cv::Size unit = cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, 1.0, 1, &base);
    double scale = std::min(h * k / unit.height, max_w * k / unit.width);
    int thickness = std::max(1, static_cast<int>(std::lround(scale * 2.0)));
    cv::Size sz = cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &base);
    cv::Point org(static_cast<int>(std::lround(cx * k - sz.width / 2.0)), static_cast<int>(std::lround(cy * k + sz.height / 2.0)));
    cv::putText(img, s, org, cv::FONT_HERSHEY_SIMPLEX, scale, c, thickness, cv::LINE_AA);
  }
};

std::string to_upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

cv::Scalar shade(const cv::Scalar& c, double f) { return {c[0] * f, c[1] * f, c[2] * f}; }

const cv::Scalar kPants[] = {{60, 40, 30}, {110, 80, 40}, {40, 40, 40}, {80, 110, 120}};

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

void draw_head(const Canvas& cv_, const Person& p, cv::Point2d c, double r) {
  const Identity& id = identities()[p.identity];
  cv::Scalar skin = skin_tones()[id.skin_tone];
  cv::Scalar hair = hair_colors()[id.hair_color];
  if (id.long_hair && !p.hat) cv_.rect(c.x - r * 1.05, c.y - r * 0.3, r * 2.1, r * 1.9, hair);  // hair down the back
  if (p.face == FaceView::kAway) {
    cv_.disc(c.x, c.y, r, hair);
  } else {
    cv_.disc(c.x, c.y, r, skin);
    cv_.ellipse(c.x, c.y - r * 0.05, r * 1.02, r * 1.0, 180, 360, hair, cv::FILLED);  // hairline cap
    cv_.disc(c.x, c.y + r * 0.15, r * 0.78, skin);
    double ey = c.y - r * 0.05, ex = r * 0.38;
    cv::Scalar dark(25, 25, 25);
    switch (id.eye_style) {
      case 0: cv_.disc(c.x - ex, ey, r * 0.14, dark); cv_.disc(c.x + ex, ey, r * 0.14, dark); break;
      case 1: cv_.line(c.x - ex - r * 0.18, ey, c.x - ex + r * 0.18, ey, dark, r * 0.16);
              cv_.line(c.x + ex - r * 0.18, ey, c.x + ex + r * 0.18, ey, dark, r * 0.16); break;
      default: cv_.ring(c.x - ex, ey, r * 0.24, dark, r * 0.09); cv_.ring(c.x + ex, ey, r * 0.24, dark, r * 0.09);
               cv_.line(c.x - ex + r * 0.24, ey, c.x + ex - r * 0.24, ey, dark, r * 0.08); break;
    }
    if (id.brows) {
      cv_.line(c.x - ex - r * 0.2, ey - r * 0.32, c.x - ex + r * 0.2, ey - r * 0.38, hair, r * 0.13);
      cv_.line(c.x + ex - r * 0.2, ey - r * 0.38, c.x + ex + r * 0.2, ey - r * 0.32, hair, r * 0.13);
    }
    if (id.beard) cv_.ellipse(c.x, c.y + r * 0.35, r * 0.72, r * 0.62, 0, 180, hair, cv::FILLED);
    double my = c.y + r * 0.45;
    cv::Scalar lips(60, 60, 150);
    switch (id.mouth_style) {
      case 0: cv_.line(c.x - r * 0.28, my, c.x + r * 0.28, my, lips, r * 0.13); break;
      case 1: cv_.ellipse(c.x, my - r * 0.12, r * 0.3, r * 0.18, 10, 170, lips, cv_.thick(r * 0.12)); break;
      default: cv_.ellipse(c.x, my, r * 0.2, r * 0.14, 0, 360, cv::Scalar(40, 30, 90), cv::FILLED); break;
    }
    if (p.face == FaceView::kPartial)  // a mask band over the lower face
      cv_.rect(c.x - r * 0.95, c.y + r * 0.1, r * 1.9, r * 0.75, cv::Scalar(235, 225, 200));
  }
  if (p.hat) {
    cv::Scalar hat = shade(palette()[(p.shirt + 3) % palette().size()].bgr, 0.7);
    cv_.ellipse(c.x, c.y - r * 0.35, r * 1.0, r * 0.85, 180, 360, hat, cv::FILLED);
    cv_.rect(c.x - r * 1.35, c.y - r * 0.45, r * 2.7, r * 0.28, hat);
  }
}

void draw_person(const Canvas& cv_, const Person& p, double t) {
  Pose q = pose_for(p, t);
  double s = p.scale, f = p.facing_left ? -1.0 : 1.0;
  const Identity& id = identities()[p.identity];
  cv::Scalar skin = skin_tones()[id.skin_tone];
  cv::Scalar shirt = palette()[p.shirt].bgr;
  cv::Scalar pants = kPants[p.pants];
  double thigh = 12 * s, shin = 12 * s, upper = 10 * s, fore = 9 * s, torso = 19 * s, r = 6.5 * s;
  double limb = 2.3 * s;
  cv::Point2d hip(p.x, p.ground - (thigh + shin) + 1 * s - q.lift * s);
  if (q.seated) {
    hip.y = p.ground - shin - 1 * s;
    cv_.rect(hip.x - 7 * s * f - 3 * s, hip.y + 1.5 * s, 12 * s, 3 * s, cv::Scalar(60, 90, 120));  // stool seat
    cv_.line(hip.x - 7 * s * f + 3 * s, hip.y + 4 * s, hip.x - 7 * s * f + 3 * s, p.ground, cv::Scalar(50, 70, 100), 1.2 * s);
  }
  if (q.lift > 0) cv_.ellipse(p.x, p.ground + 1, 8 * s, 1.5 * s, 0, 360, cv::Scalar(50, 50, 50), cv::FILLED);
  double lean = q.lean * f * kPi / 180.0;
  cv::Point2d neck(hip.x + std::sin(lean) * torso, hip.y - std::cos(lean) * torso);
  cv::Point2d sh_r(neck.x + 4.5 * s, neck.y + 1.5 * s), sh_l(neck.x - 4.5 * s, neck.y + 1.5 * s);
  cv::Point2d hp_r(hip.x + 3 * s, hip.y), hp_l(hip.x - 3 * s, hip.y);
  if (p.facing_left) std::swap(sh_r, sh_l), std::swap(hp_r, hp_l);

  auto leg = [&](cv::Point2d h, const double* a) {
    cv::Point2d knee = step(h, a[0], thigh, f), foot = step(knee, a[1], shin, f);
    cv_.line(h.x, h.y, knee.x, knee.y, pants, limb * 1.2);
    cv_.line(knee.x, knee.y, foot.x, foot.y, pants, limb * 1.1);
    cv_.line(foot.x, foot.y, foot.x + 2.2 * s * f, foot.y, cv::Scalar(30, 30, 30), limb);
  };
  auto arm = [&](cv::Point2d sh, const double* a) {
    cv::Point2d elbow = step(sh, a[0], upper, f), hand = step(elbow, a[1], fore, f);
    cv_.line(sh.x, sh.y, elbow.x, elbow.y, shirt, limb);
    cv_.line(elbow.x, elbow.y, hand.x, hand.y, shade(shirt, 0.85), limb * 0.9);
    cv_.disc(hand.x, hand.y, 1.2 * s, skin);
  };
  leg(hp_l, q.leg_l);
  arm(sh_l, q.arm_l);
  cv_.poly({{sh_l.x - 1 * s, sh_l.y - 1 * s}, {sh_r.x + 1 * s, sh_r.y - 1 * s}, {hp_r.x + 1 * s, hp_r.y}, {hp_l.x - 1 * s, hp_l.y}}, shirt);
  leg(hp_r, q.leg_r);
  if (p.name_tag) {
    double tx = neck.x + (hip.x - neck.x) * 0.35, ty = neck.y + (hip.y - neck.y) * 0.42;
    cv_.rect(tx - 5.5 * s, ty - 2.4 * s, 11 * s, 4.8 * s, cv::Scalar(250, 250, 250));
    cv_.text(to_upper(id.name), tx, ty, 3.2 * s, cv::Scalar(20, 20, 20), 10 * s);
  }
  cv_.line(neck.x, neck.y, neck.x, neck.y - 2 * s, skin, 2.5 * s);
  draw_head(cv_, p, {neck.x, neck.y - 2 * s - r + 0.5 * s}, r);
  arm(sh_r, q.arm_r);
}

void draw_object(const Canvas& c, const Object& o) {
  cv::Scalar col = palette()[o.color].bgr;
  cv::Scalar dark(30, 30, 30);
  switch (o.kind) {
    case ObjectKind::kBall:
      c.disc(o.x, o.y - 3.5, 3.5, col);
      break;
    case ObjectKind::kCup:
      c.poly({{o.x - 2.8, o.y - 6}, {o.x + 2.8, o.y - 6}, {o.x + 2.0, o.y}, {o.x - 2.0, o.y}}, col);
      c.ring(o.x + 3.4, o.y - 3.5, 1.3, col, 0.9);
      break;
    case ObjectKind::kBag:
      c.rect(o.x - 3.5, o.y - 6, 7, 6, col);
      c.ellipse(o.x, o.y - 6, 2.2, 2.2, 180, 360, shade(col, 0.7), c.thick(0.9));
      break;
    case ObjectKind::kKite:
      c.poly({{o.x, o.y - 5.5}, {o.x + 3.8, o.y}, {o.x, o.y + 5.5}, {o.x - 3.8, o.y}}, col);
      c.line(o.x, o.y + 5.5, o.x - 2, o.y + 13, dark, 0.6);
      break;
    case ObjectKind::kCar: {
      c.rect(o.x, o.y - 10, 27, 7, col);
      c.poly({{o.x + 5, o.y - 10}, {o.x + 8, o.y - 15}, {o.x + 18, o.y - 15}, {o.x + 21, o.y - 10}}, shade(col, 0.85));
      c.rect(o.x + 9, o.y - 14, 4, 3.5, cv::Scalar(230, 210, 190));
      c.rect(o.x + 14, o.y - 14, 4, 3.5, cv::Scalar(230, 210, 190));
      c.disc(o.x + 6, o.y - 3, 2.8, dark);
      c.disc(o.x + 21, o.y - 3, 2.8, dark);
      c.rect(o.x + 7.5, o.y - 8.6, 12, 4.4, cv::Scalar(240, 240, 240));  // licence plate
      c.text(o.plate, o.x + 13.5, o.y - 6.4, 2.8, dark, 11.2);
      break;
    }
  }
}

}  // namespace

void render_scene(const Scene& s, int size, double t, cv::Mat& out) {
  out.create(size, size, CV_8UC3);
  Canvas c{out, size / 112.0};
  // Sky or wall with a vertical gradient, then the ground band.
  for (int y = 0; y < size; ++y) {
    double g = 1.0 - 0.18 * y / size;
    out.row(y).setTo(shade(s.sky, g));
  }
  c.rect(0, 78, 112, 34, s.ground);
  for (size_t i = 0; i < s.buildings.size(); ++i) {
    const auto& b = s.buildings[i];
    c.rect(b.x, b.y, b.width, b.height, s.building_colors[i]);
    for (double wy = b.y + 3; wy < b.y + b.height - 5; wy += 7)
      for (double wx = b.x + 3; wx < b.x + b.width - 4; wx += 7) c.rect(wx, wy, 3, 3.5, shade(s.building_colors[i], 0.6));
  }
  if (s.has_sign) {
    double w = 7 + 6.0 * s.sign.word.size(), h = 11;
    c.rect(s.sign.x, s.sign.y, w, h, shade(palette()[s.sign.color].bgr, 0.75));
    c.text(s.sign.word, s.sign.x + w / 2, s.sign.y + h / 2, 6.5, cv::Scalar(250, 250, 250), w - 3);
  }
  for (const auto& o : s.objects)
    if (o.kind == ObjectKind::kCar || o.kind == ObjectKind::kKite) draw_object(c, o);
  // Smaller (farther) people first, the main person on top.
  for (size_t i = s.people.size(); i-- > 1;) draw_person(c, s.people[i], t);
  draw_person(c, s.people[0], t);
  for (const auto& o : s.objects)
    if (o.kind != ObjectKind::kCar && o.kind != ObjectKind::kKite) draw_object(c, o);
}

}  // namespace scrim::synth
