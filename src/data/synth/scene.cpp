#include "data/synth/scene.h"

#include <algorithm>
#include <cmath>

#include "data/synth/layout.h"

namespace scrim::synth {

const std::vector<NamedColor>& palette() {
  static const std::vector<NamedColor> kPalette = {
      {"red", {40, 40, 220}},    {"green", {60, 170, 50}},   {"blue", {210, 90, 30}},
      {"yellow", {30, 220, 240}}, {"orange", {20, 140, 250}}, {"purple", {170, 50, 140}},
      {"white", {245, 245, 245}}, {"black", {25, 25, 25}}};
  return kPalette;
}

const std::vector<cv::Scalar>& skin_tones() {
  static const std::vector<cv::Scalar> kTones = {
      {190, 215, 250}, {150, 190, 235}, {110, 160, 210}, {70, 115, 165}, {40, 70, 110}};
  return kTones;
}

const std::vector<cv::Scalar>& hair_colors() {
  static const std::vector<cv::Scalar> kHair = {
      {20, 20, 20}, {30, 60, 110}, {90, 200, 235}, {40, 70, 190}, {170, 170, 170}};
  return kHair;
}

// 20 fixed identities. Each differs from every other in at least two features,
// so recognising a person needs the face, not one colour.
const std::vector<Identity>& identities() {
  static const std::vector<Identity> kIds = [] {
    const char* names[] = {"ada",  "ben",  "cara", "dev",  "eli",  "fay",  "gus",  "hana", "ivo",  "jun",
                           "kai",  "lena", "milo", "nia",  "omar", "pia",  "quin", "rosa", "sam",  "tess"};
    std::vector<Identity> ids;
    for (int i = 0; i < 20; ++i) {
      Identity id;
      id.name = names[i];
      id.skin_tone = (i * 3) % 5;
      id.hair_color = (i * 2 + i / 5) % 5;
      id.long_hair = (i % 2) == 0;
      id.eye_style = (i / 2) % 3;
      id.mouth_style = (i + i / 3) % 3;
      id.beard = !id.long_hair && (i % 4) == 1;
      id.brows = (i / 4) % 2 == 0;
      ids.push_back(id);
    }
    return ids;
  }();
  return kIds;
}

const char* object_name(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kBall: return "ball";
    case ObjectKind::kCup: return "cup";
    case ObjectKind::kCar: return "car";
    case ObjectKind::kBag: return "bag";
    case ObjectKind::kKite: return "kite";
  }
  return "?";
}

std::string action_name(Action a) {
  static const char* kNames[] = {"standing", "walking", "running", "sitting",
                                 "waving",   "jumping", "clapping", "pointing"};
  return kNames[static_cast<int>(a)];
}

namespace {

const std::vector<std::string>& sign_words() {
  static const std::vector<std::string> kWords = {"OPEN", "EXIT", "CAFE", "SALE", "BANK", "TAXI",
                                                  "BAR",  "SHOP", "PARK", "STOP", "HOTEL", "BUS"};
  return kWords;
}

std::string random_plate(Rng& rng) {
  static const char kLetters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
  std::string s;
  for (int i = 0; i < 2; ++i) s += kLetters[rng.integer(0, 22)];
  for (int i = 0; i < 2; ++i) s += static_cast<char>('0' + rng.integer(0, 9));
  for (int i = 0; i < 2; ++i) s += kLetters[rng.integer(0, 22)];
  return s;
}

Person sample_person(Rng& rng, double x, double scale) {
  Person p;
  p.identity = rng.integer(0, 19);
  p.action = static_cast<Action>(rng.integer(0, kNumActions - 1));
  p.x = x;
  p.scale = scale;
  p.ground = 100 - rng.uniform(0, 6) * (1.0 - scale + 0.3);
  p.facing_left = rng.chance(0.5);
  double f = rng.uniform();
  p.face = f < 0.55 ? FaceView::kComplete : (f < 0.85 ? FaceView::kPartial : FaceView::kAway);
  p.hat = rng.chance(0.25);
  p.shirt = rng.integer(0, static_cast<int>(palette().size()) - 1);
  p.pants = rng.integer(0, 3);
  p.name_tag = p.face != FaceView::kAway && rng.chance(0.4);
  // Phases where the stride is wide, so a still frame of walking or running
  // does not look like standing.
  p.phase = rng.chance(0.5) ? rng.uniform(0.8, 2.35) : rng.uniform(3.95, 5.5);
  for (auto& j : p.jitter) j = rng.uniform(-8, 8);
  return p;
}

}  // namespace

Scene sample_scene(Rng& rng) {
  Scene s;
  s.background = rng.integer(0, 2);  // 0 outdoor street, 1 park, 2 indoor
  auto jitter = [&](cv::Scalar c, double r) {
    return cv::Scalar(std::clamp(c[0] + rng.uniform(-r, r), 0.0, 255.0), std::clamp(c[1] + rng.uniform(-r, r), 0.0, 255.0),
                      std::clamp(c[2] + rng.uniform(-r, r), 0.0, 255.0));
  };
  if (s.background == 0) {
    s.sky = jitter({225, 200, 160}, 25);
    s.ground = jitter({120, 120, 125}, 20);
  } else if (s.background == 1) {
    s.sky = jitter({235, 215, 170}, 20);
    s.ground = jitter({70, 150, 90}, 25);
  } else {
    s.sky = jitter({170, 190, 205}, 30);
    s.ground = jitter({90, 120, 150}, 25);
  }
  int n_buildings = s.background == 1 ? rng.integer(0, 1) : rng.integer(1, 3);
  for (int i = 0; i < n_buildings; ++i) {
    double w = rng.uniform(18, 40), h = rng.uniform(20, 45);
    s.buildings.emplace_back(rng.uniform(-5, 112 - w + 5), 78 - h, w, h);
    s.building_colors.push_back(jitter({150, 150, 150}, 50));
  }

  int n_people = rng.integer(1, 3);
  s.people.push_back(sample_person(rng, rng.uniform(48, 64), 1.0));
  std::vector<double> side_slots = {rng.uniform(12, 24), rng.uniform(88, 100)};
  if (rng.chance(0.5)) std::swap(side_slots[0], side_slots[1]);
  for (int i = 1; i < n_people; ++i) s.people.push_back(sample_person(rng, side_slots[i - 1], rng.uniform(0.6, 0.75)));

  // 1-3 distinct objects.
  std::vector<int> kinds = {0, 1, 2, 3, 4};
  std::shuffle(kinds.begin(), kinds.end(), rng.engine());
  int n_objects = rng.integer(1, 3);
  for (int i = 0; i < n_objects; ++i) {
    Object o;
    o.kind = static_cast<ObjectKind>(kinds[i]);
    o.color = rng.integer(0, static_cast<int>(palette().size()) - 1);
    switch (o.kind) {
      case ObjectKind::kCar: o.x = rng.uniform(8, 80); o.y = 104; o.plate = random_plate(rng); break;
      case ObjectKind::kKite: o.x = rng.uniform(10, 100); o.y = rng.uniform(8, 22); break;
      case ObjectKind::kBall: o.x = rng.uniform(10, 102); o.y = rng.uniform(98, 106); break;
      case ObjectKind::kCup: o.x = rng.uniform(10, 102); o.y = rng.uniform(96, 104); break;
      case ObjectKind::kBag: o.x = rng.uniform(10, 102); o.y = rng.uniform(96, 104); break;
    }
    s.objects.push_back(o);
  }
  s.has_sign = rng.chance(0.5);
  if (s.has_sign) {
    s.sign.word = sign_words()[rng.integer(0, static_cast<int>(sign_words().size()) - 1)];
    s.sign.x = rng.uniform(4, 70);
    s.sign.y = rng.uniform(6, 24);
    s.sign.color = rng.integer(0, 5);
  }
  return s;
}

namespace {

// The box in scene units as a manifest region: fractions of the picture, clipped to it.
std::optional<Region> region_of(const cv::Rect2d& box) {
  auto frac = [](double v) { return std::round(std::clamp(v / 112.0, 0.0, 1.0) * 1e4) / 1e4; };
  double x0 = frac(box.x), y0 = frac(box.y), x1 = frac(box.x + box.width), y1 = frac(box.y + box.height);
  if (x1 <= x0 || y1 <= y0) return std::nullopt;
  auto round4 = [](double v) { return std::round(v * 1e4) / 1e4; };
  return Region{x0, y0, round4(x1 - x0), round4(y1 - y0)};
}

// The union of a person's part over the frames' times (a clip's figure moves).
template <typename Part>
cv::Rect2d over_times(const Person& p, const std::vector<double>& times, Part part) {
  cv::Rect2d box = part(person_layout(p, times.front()));
  for (size_t i = 1; i < times.size(); ++i) box |= part(person_layout(p, times[i]));
  return box;
}

VqaItem ten(const std::string& question, const std::string& answer, const std::string& type,
            std::optional<Region> evidence = std::nullopt) {
  return VqaItem{question, std::vector<std::string>(10, answer), type, evidence};
}

}  // namespace

std::vector<VqaItem> task_questions(const Scene& s, Rng& rng) {
  std::vector<VqaItem> qs;
  const Person& main = s.people[0];
  const PersonLayout layout = person_layout(main, 0.0);  // VQA questions are about the still picture
  qs.push_back(ten("What is the person in the middle doing?", action_name(main.action), "action", region_of(person_box(layout))));
  const Object& o = s.objects[rng.integer(0, static_cast<int>(s.objects.size()) - 1)];
  qs.push_back(ten(std::string("What color is the ") + object_name(o.kind) + "?", palette()[o.color].name, "object_color",
                   region_of(object_box(o))));
  qs.push_back(ten("How many people are there?", std::to_string(s.people.size()), "count"));
  // Presence: ask about a present or an absent object with equal chance.
  ObjectKind asked = static_cast<ObjectKind>(rng.integer(0, kNumObjectKinds - 1));
  if (rng.chance(0.5)) asked = s.objects[rng.integer(0, static_cast<int>(s.objects.size()) - 1)].kind;
  auto found = std::find_if(s.objects.begin(), s.objects.end(), [&](const Object& x) { return x.kind == asked; });
  bool present = found != s.objects.end();
  // "No" has nowhere to look; "yes" is read off the object.
  qs.push_back(ten(std::string("Is there a ") + object_name(asked) + "?", present ? "yes" : "no", "presence",
                   present ? region_of(object_box(*found)) : std::nullopt));
  qs.push_back(ten("What color is the shirt of the person in the middle?", palette()[main.shirt].name, "clothing_color",
                   region_of(torso_box(layout))));
  return qs;
}

PrivacyLabels privacy_labels(const Scene& s, const std::vector<double>& times) {
  // Presence semantics, as in VISPR: an attribute is 1 when it can be read off
  // the main person. Conventions of this benchmark:
  //   a9_face_complete / a10_face_partial: the face is fully visible / half
  //     covered by a mask band (0 and 0 when the person faces away);
  //   a17_color: skin colour is visible (the face is visible at all);
  //   a4_gender: the gender cue is visible: the face and the hair (long hair is
  //     this benchmark's "female" convention) are both visible, i.e. no hat;
  //   text_legible: any name tag, sign or licence plate is in the picture.
  PrivacyLabels p;
  const Person& main = s.people[0];
  const Identity& id = identities()[main.identity];
  bool face_visible = main.face != FaceView::kAway;
  p.attributes["a4_gender"] = face_visible && !main.hat ? 1 : 0;
  p.attributes["a9_face_complete"] = main.face == FaceView::kComplete ? 1 : 0;
  p.attributes["a10_face_partial"] = main.face == FaceView::kPartial ? 1 : 0;
  p.attributes["a17_color"] = face_visible ? 1 : 0;
  p.identity = id.name;
  for (const auto& person : s.people)
    if (person.name_tag) p.texts.push_back(identities()[person.identity].name);
  if (s.has_sign) p.texts.push_back(s.sign.word);
  for (const auto& o : s.objects)
    if (!o.plate.empty()) p.texts.push_back(o.plate);
  p.attributes["text_legible"] = p.texts.empty() ? 0 : 1;

  p.questions.push_back(ten("Who is the person in the middle?", id.name, "identity",
                            region_of(over_times(main, times, [](const PersonLayout& l) { return face_box(l); }))));
  if (main.name_tag)
    p.questions.push_back(ten("What name is on the tag of the person in the middle?", id.name, "name_tag",
                              region_of(over_times(main, times, [](const PersonLayout& l) { return tag_box(l); }))));
  if (s.has_sign) p.questions.push_back(ten("What does the sign say?", s.sign.word, "sign_text", region_of(sign_box(s.sign))));
  for (const auto& o : s.objects)
    if (!o.plate.empty())
      p.questions.push_back(ten("What is the licence plate number?", o.plate, "plate_text", region_of(plate_box(o))));
  return p;
}

}  // namespace scrim::synth
