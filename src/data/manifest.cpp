#include "scrim/data/manifest.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {

fs::path Manifest::resolve(const std::string& stored_path) const {
  fs::path p(stored_path);
  return p.is_absolute() ? p : base_dir / p;
}

std::vector<std::string> Manifest::attribute_columns() const {
  if (!attributes.empty()) return attributes;
  std::set<std::string> seen;
  for (const auto& s : samples)
    for (const auto& [k, _] : s.privacy.attributes) seen.insert(k);
  return {seen.begin(), seen.end()};
}

std::vector<const Sample*> Manifest::split(const std::string& name) const {
  std::vector<const Sample*> out;
  for (const auto& s : samples)
    if (s.split == name) out.push_back(&s);
  return out;
}

const std::vector<std::string>& Manifest::labels_of(const Task& task) const {
  auto it = label_sets.find(task.label_set);
  if (it == label_sets.end()) throw Error("manifest: unknown label set '" + task.label_set + "'");
  return it->second;
}

namespace {

// Limits on what one manifest line may hold: a hostile or broken file gets a
// one-line error instead of unbounded memory, stack or error-message size.
constexpr size_t kMaxLineBytes = size_t{4} << 20;  // a header with thousands of labels fits
constexpr size_t kMaxSplitChars = 64;
constexpr size_t kMaxNameChars = 1024;   // ids, labels, label sets, attributes, identities
constexpr size_t kMaxPathChars = 4096;   // PATH_MAX
constexpr size_t kMaxTextChars = 65536;  // questions, answers, legible text

// A value quoted in an error message, cut short so that a huge bad value
// cannot produce a huge error line.
std::string excerpt(const std::string& value, size_t max_chars = 60) {
  if (value.size() <= max_chars) return value;
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
  return value.substr(0, cut) + "...(" + std::to_string(value.size()) + " bytes)";
}

// Split names: letters, digits, '_', '-' and '.' (they name output files and table columns).
bool is_split_name(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

// Carries the location for error messages while one line is parsed.
struct LineContext {
  const std::string& file;
  size_t line;
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(file + ":" + std::to_string(line) + ": field '" + excerpt(field) + "': " + problem);
  }
  const json& need(const json& obj, const char* key, const std::string& field) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) fail(field, "missing");
    return *it;
  }
  std::string string(const json& v, const std::string& field, size_t max_chars, bool allow_empty = false) const {
    if (!v.is_string()) fail(field, "expected a string");
    const auto& s = v.get_ref<const std::string&>();
    if (!allow_empty && s.empty()) fail(field, "must not be empty");
    if (s.size() > max_chars)
      fail(field, "'" + excerpt(s) + "' is longer than " + std::to_string(max_chars) + " bytes");
    return s;
  }
  std::vector<std::string> strings(const json& v, const std::string& field, size_t max_chars, bool allow_empty_list) const {
    if (!v.is_array()) fail(field, "expected an array of strings");
    if (!allow_empty_list && v.empty()) fail(field, "must not be empty");
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(string(v[i], field + "[" + std::to_string(i) + "]", max_chars));
    return out;
  }
  // An integer in [lo, hi]; JSON numbers beyond 64 bits or the range are refused, never wrapped.
  int64_t integer(const json& v, const std::string& field, int64_t lo, int64_t hi, const std::string& expected) const {
    if (!v.is_number_integer()) fail(field, "expected " + expected);
    bool in_range;
    int64_t n = 0;
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      in_range = u <= static_cast<uint64_t>(hi) && (lo <= 0 || u >= static_cast<uint64_t>(lo));
      n = static_cast<int64_t>(u);
    } else {
      n = v.get<int64_t>();
      in_range = n >= lo && n <= hi;
    }
    if (!in_range) fail(field, "expected " + expected + ", not " + excerpt(v.dump()));
    return n;
  }
};

VqaItem parse_vqa(const json& j, const LineContext& ctx, const std::string& field) {
  VqaItem item;
  item.question = ctx.string(ctx.need(j, "question", field + ".question"), field + ".question", kMaxTextChars);
  item.answers = ctx.strings(ctx.need(j, "answers", field + ".answers"), field + ".answers", kMaxTextChars, false);
  if (auto it = j.find("question_type"); it != j.end() && !it->is_null())
    item.question_type = ctx.string(*it, field + ".question_type", kMaxNameChars, true);
  if (auto it = j.find("evidence"); it != j.end() && !it->is_null()) {
    const std::string f = field + ".evidence";
    if (!it->is_array() || it->size() != 4) ctx.fail(f, "expected [x, y, w, h]");
    for (const auto& v : *it)
      if (!v.is_number() || !std::isfinite(v.get<double>())) ctx.fail(f, "expected four numbers");
    Region r{(*it)[0].get<double>(), (*it)[1].get<double>(), (*it)[2].get<double>(), (*it)[3].get<double>()};
    const double eps = 1e-6;
    if (r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.x + r.w > 1 + eps || r.y + r.h > 1 + eps)
      ctx.fail(f, "must be a non-empty rectangle inside the picture, as fractions of its width and height");
    item.evidence = r;
  }
  return item;
}

json vqa_to_json(const VqaItem& v) {
  json j = {{"question", v.question}, {"answers", v.answers}};
  if (!v.question_type.empty()) j["question_type"] = v.question_type;
  if (v.evidence) j["evidence"] = {v.evidence->x, v.evidence->y, v.evidence->w, v.evidence->h};
  return j;
}

Sample parse_sample(const json& j, const LineContext& ctx, Manifest& m,
                    std::map<std::vector<std::string>, std::string>& inline_sets) {
  Sample s;
  s.id = ctx.string(ctx.need(j, "id", "id"), "id", kMaxNameChars);
  s.split = ctx.string(ctx.need(j, "split", "split"), "split", kMaxSplitChars);
  if (!is_split_name(s.split)) ctx.fail("split", "'" + excerpt(s.split) + "': use letters, digits, '_', '-' or '.'");

  const json& media = ctx.need(j, "media", "media");
  if (!media.is_object()) ctx.fail("media", "expected an object");
  bool has_images = media.contains("images"), has_video = media.contains("video");
  if (has_images == has_video) ctx.fail("media", "give exactly one of 'images' or 'video'");
  if (has_images) {
    s.media.images = ctx.strings(media["images"], "media.images", kMaxPathChars, false);
  } else {
    s.media.video = ctx.string(media["video"], "media.video", kMaxPathChars);
    if (auto it = media.find("frames"); it != media.end()) {
      if (!it->is_array()) ctx.fail("media.frames", "expected an array of frame indices");
      for (const auto& f : *it)
        s.media.frames.push_back(static_cast<int>(
            ctx.integer(f, "media.frames", 0, std::numeric_limits<int>::max(), "frame indices from 0 to 2147483647")));
    }
  }

  if (auto it = j.find("task"); it != j.end() && !it->is_null()) {
    const json& t = *it;
    if (!t.is_object()) ctx.fail("task", "expected an object");
    std::string type = ctx.string(ctx.need(t, "type", "task.type"), "task.type", kMaxNameChars);
    if (type == "action") {
      s.task.kind = Task::Kind::kAction;
      s.task.label = ctx.string(ctx.need(t, "label", "task.label"), "task.label", kMaxNameChars);
      if (t.contains("labels")) {
        auto labels = ctx.strings(t["labels"], "task.labels", kMaxNameChars, false);
        auto [pos, fresh] = inline_sets.emplace(labels, "inline" + std::to_string(inline_sets.size() + 1));
        if (fresh) m.label_sets[pos->second] = labels;
        s.task.label_set = pos->second;
      } else {
        s.task.label_set = ctx.string(ctx.need(t, "label_set", "task.label_set"), "task.label_set", kMaxNameChars);
        if (!m.label_sets.count(s.task.label_set))
          ctx.fail("task.label_set", "'" + excerpt(s.task.label_set) + "' is not declared in the header");
      }
      const auto& labels = m.label_sets[s.task.label_set];
      if (std::find(labels.begin(), labels.end(), s.task.label) == labels.end())
        ctx.fail("task.label", "'" + excerpt(s.task.label) + "' is not in label set '" + excerpt(s.task.label_set) + "'");
    } else if (type == "vqa") {
      s.task.kind = Task::Kind::kVqa;
      s.task.vqa = parse_vqa(t, ctx, "task");
    } else {
      ctx.fail("task.type", "'" + excerpt(type) + "' is not 'action' or 'vqa'");
    }
  }

  if (auto it = j.find("privacy"); it != j.end() && !it->is_null()) {
    const json& p = *it;
    if (!p.is_object()) ctx.fail("privacy", "expected an object");
    if (auto a = p.find("attributes"); a != p.end()) {
      if (!a->is_object()) ctx.fail("privacy.attributes", "expected an object of attribute -> 0/1");
      for (const auto& [key, value] : a->items()) {
        std::string field = "privacy.attributes." + key;
        if (key.size() > kMaxNameChars) ctx.fail(field, "attribute names are limited to " + std::to_string(kMaxNameChars) + " bytes");
        s.privacy.attributes[key] = static_cast<int>(ctx.integer(value, field, 0, 1, "0 or 1"));
      }
    }
    if (auto id = p.find("identity"); id != p.end() && !id->is_null())
      s.privacy.identity = ctx.string(*id, "privacy.identity", kMaxNameChars);
    if (auto t = p.find("text"); t != p.end()) s.privacy.texts = ctx.strings(*t, "privacy.text", kMaxTextChars, true);
    if (auto q = p.find("questions"); q != p.end()) {
      if (!q->is_array()) ctx.fail("privacy.questions", "expected an array");
      for (size_t i = 0; i < q->size(); ++i)
        s.privacy.questions.push_back(parse_vqa((*q)[i], ctx, "privacy.questions[" + std::to_string(i) + "]"));
    }
  }
  return s;
}

json sample_to_json(const Sample& s) {
  json j;
  j["id"] = s.id;
  j["split"] = s.split;
  json media;
  if (s.media.is_video()) {
    media["video"] = s.media.video;
    if (!s.media.frames.empty()) media["frames"] = s.media.frames;
  } else {
    media["images"] = s.media.images;
  }
  j["media"] = media;
  if (s.task.kind == Task::Kind::kAction) {
    j["task"] = {{"type", "action"}, {"label", s.task.label}, {"label_set", s.task.label_set}};
  } else if (s.task.kind == Task::Kind::kVqa) {
    json t = vqa_to_json(s.task.vqa);
    t["type"] = "vqa";
    j["task"] = t;
  }
  const auto& p = s.privacy;
  if (!p.attributes.empty() || p.identity || !p.texts.empty() || !p.questions.empty()) {
    json pj = json::object();
    if (!p.attributes.empty()) pj["attributes"] = p.attributes;
    if (p.identity) pj["identity"] = *p.identity;
    if (!p.texts.empty()) pj["text"] = p.texts;
    if (!p.questions.empty()) {
      pj["questions"] = json::array();
      for (const auto& q : p.questions) pj["questions"].push_back(vqa_to_json(q));
    }
    j["privacy"] = pj;
  }
  return j;
}

}  // namespace

Manifest parse_manifest(const std::string& text, const std::string& file, const fs::path& base_dir) {
  Manifest m;
  m.base_dir = base_dir;
  std::map<std::vector<std::string>, std::string> inline_sets;
  std::set<std::string> ids;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  bool seen_sample = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > kMaxLineBytes)
      throw Error(file + ":" + std::to_string(line_no) + ": line of " + std::to_string(line.size()) +
                  " bytes exceeds the limit of " + std::to_string(kMaxLineBytes));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    LineContext ctx{file, line_no};
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      throw Error(file + ":" + std::to_string(line_no) + ": malformed JSON (" + excerpt(one_line(e.what()), 200) + ")");
    }
    if (!j.is_object()) ctx.fail("(line)", "expected a JSON object");
    if (j.contains("scrim_manifest")) {
      if (seen_sample) ctx.fail("scrim_manifest", "the header must be the first line");
      ctx.integer(j["scrim_manifest"], "scrim_manifest", 1, 1, "version 1 (the version this scrim reads)");
      if (j.contains("name")) m.name = ctx.string(j["name"], "name", kMaxNameChars, true);
      if (j.contains("label_sets")) {
        if (!j["label_sets"].is_object()) ctx.fail("label_sets", "expected an object of name -> labels");
        for (const auto& [k, v] : j["label_sets"].items()) {
          if (k.size() > kMaxNameChars)
            ctx.fail("label_sets." + k, "label set names are limited to " + std::to_string(kMaxNameChars) + " bytes");
          m.label_sets[k] = ctx.strings(v, "label_sets." + k, kMaxNameChars, false);
        }
      }
      if (j.contains("attributes")) m.attributes = ctx.strings(j["attributes"], "attributes", kMaxNameChars, true);
      continue;
    }
    seen_sample = true;
    Sample s = parse_sample(j, ctx, m, inline_sets);
    if (!ids.insert(s.id).second) ctx.fail("id", "duplicate id '" + excerpt(s.id) + "'");
    m.samples.push_back(std::move(s));
  }
  return m;
}

Manifest read_manifest(const fs::path& path) {
  std::string text = read_file_text(path);
  fs::path base = path.parent_path();
  if (base.empty()) base = ".";
  return parse_manifest(text, path.string(), base);
}

void validate_manifest(const Manifest& m, const std::string& name) {
  // Round-tripping through the parser applies exactly the reader's rules.
  parse_manifest(serialize_manifest(m), name, m.base_dir);
}

std::string serialize_manifest(const Manifest& m) {
  std::string out;
  json header = {{"scrim_manifest", 1}};
  if (!m.name.empty()) header["name"] = m.name;
  if (!m.label_sets.empty()) header["label_sets"] = m.label_sets;
  if (!m.attributes.empty()) header["attributes"] = m.attributes;
  out += header.dump() + "\n";
  for (const auto& s : m.samples) out += sample_to_json(s).dump() + "\n";
  return out;
}

void write_manifest(const fs::path& path, const Manifest& m) {
  std::string text = serialize_manifest(m);
  parse_manifest(text, path.string() + " (being written)", m.base_dir);
  write_file_atomic(path, text);
}

}  // namespace scrim

namespace scrim {

void relocate_manifest(Manifest& m, const fs::path& new_base_dir) {
  fs::path target = fs::weakly_canonical(fs::absolute(new_base_dir));
  auto move = [&](std::string& stored) {
    fs::path abs = fs::weakly_canonical(fs::absolute(m.resolve(stored)));
    fs::path rel = abs.lexically_relative(target);
    stored = (rel.empty() ? abs : rel).generic_string();
  };
  for (auto& s : m.samples) {
    for (auto& img : s.media.images) move(img);
    if (s.media.is_video()) move(s.media.video);
  }
  m.base_dir = target;
}

}  // namespace scrim
