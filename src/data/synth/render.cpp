// Drawing of synthetic scenes. Coordinates are in 112-unit scene space and
// scaled to the output size; OpenCV's sub-pixel `shift` keeps thin limbs
// smooth at every size.
#include <algorithm>
#include <cctype>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "data/synth/layout.h"
#include "data/synth/scene.h"

namespace scrim::synth {
namespace {

constexpr int kShift = 4;  // sub-pixel bits for OpenCV drawing

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
  PersonLayout l = person_layout(p, t);
  double s = p.scale, f = l.facing;
  const Identity& id = identities()[p.identity];
  cv::Scalar skin = skin_tones()[id.skin_tone];
  cv::Scalar shirt = palette()[p.shirt].bgr;
  cv::Scalar pants = kPants[p.pants];
  double limb = 2.3 * s;
  if (l.seated) {
    cv_.rect(l.hip.x - 7 * s * f - 3 * s, l.hip.y + 1.5 * s, 12 * s, 3 * s, cv::Scalar(60, 90, 120));  // stool seat
    cv_.line(l.hip.x - 7 * s * f + 3 * s, l.hip.y + 4 * s, l.hip.x - 7 * s * f + 3 * s, p.ground, cv::Scalar(50, 70, 100), 1.2 * s);
  }
  if (l.lift > 0) cv_.ellipse(p.x, p.ground + 1, 8 * s, 1.5 * s, 0, 360, cv::Scalar(50, 50, 50), cv::FILLED);

  auto leg = [&](cv::Point2d h, cv::Point2d knee, cv::Point2d foot) {
    cv_.line(h.x, h.y, knee.x, knee.y, pants, limb * 1.2);
    cv_.line(knee.x, knee.y, foot.x, foot.y, pants, limb * 1.1);
    cv_.line(foot.x, foot.y, foot.x + 2.2 * s * f, foot.y, cv::Scalar(30, 30, 30), limb);
  };
  auto arm = [&](cv::Point2d sh, cv::Point2d elbow, cv::Point2d hand) {
    cv_.line(sh.x, sh.y, elbow.x, elbow.y, shirt, limb);
    cv_.line(elbow.x, elbow.y, hand.x, hand.y, shade(shirt, 0.85), limb * 0.9);
    cv_.disc(hand.x, hand.y, 1.2 * s, skin);
  };
  const auto &sh_r = l.shoulder_r, &sh_l = l.shoulder_l, &hp_r = l.hip_r, &hp_l = l.hip_l;
  leg(hp_l, l.knee_l, l.foot_l);
  arm(sh_l, l.elbow_l, l.hand_l);
  cv_.poly({{sh_l.x - 1 * s, sh_l.y - 1 * s}, {sh_r.x + 1 * s, sh_r.y - 1 * s}, {hp_r.x + 1 * s, hp_r.y}, {hp_l.x - 1 * s, hp_l.y}}, shirt);
  leg(hp_r, l.knee_r, l.foot_r);
  if (p.name_tag) {
    cv::Rect2d tag = tag_box(l);
    cv_.rect(tag.x, tag.y, tag.width, tag.height, cv::Scalar(250, 250, 250));
    cv_.text(to_upper(id.name), l.tag.x, l.tag.y, 3.2 * s, cv::Scalar(20, 20, 20), 10 * s);
  }
  cv_.line(l.neck.x, l.neck.y, l.neck.x, l.neck.y - 2 * s, skin, 2.5 * s);
  draw_head(cv_, p, l.head, l.head_radius);
  arm(sh_r, l.elbow_r, l.hand_r);
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
      cv::Rect2d plate = plate_box(o);
      c.rect(plate.x, plate.y, plate.width, plate.height, cv::Scalar(240, 240, 240));
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
    cv::Rect2d b = sign_box(s.sign);
    c.rect(b.x, b.y, b.width, b.height, shade(palette()[s.sign.color].bgr, 0.75));
    c.text(s.sign.word, b.x + b.width / 2, b.y + b.height / 2, 6.5, cv::Scalar(250, 250, 250), b.width - 3);
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
