#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/data/importers.h"
#include "scrim/data/vispr_attributes.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {
namespace {

json parse_json_file(const fs::path& path) {
  try {
    return json::parse(read_file_text(path));
  } catch (const json::parse_error& e) {
    throw Error(path.string() + ": malformed JSON (" + one_line(e.what()) + ")");
  }
}

// The OK-VQA privacy annotations, keyed by COCO file name. Entries give "choice"
// as a string, as {"choices": [...]}, or not at all (no private attribute); one
// image is listed twice with different labels, so repeated entries are merged.
std::map<std::string, std::set<std::string>> read_privacy(const fs::path& path) {
  json j = parse_json_file(path);
  if (!j.is_array()) throw Error(path.string() + ": expected an array of {image, id, choice}");
  std::map<std::string, std::set<std::string>> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    auto fail = [&](const std::string& field, const std::string& what) {
      return Error(path.string() + ": entry " + std::to_string(i) + ": field '" + field + "': " + what);
    };
    if (!e.is_object() || !e.contains("image") || !e["image"].is_string()) throw fail("image", "missing or not a string");
    std::string image = e["image"].get<std::string>();
    bool repeated = out.count(image) > 0;
    auto& labels = out[image];
    if (auto c = e.find("choice"); c != e.end() && !c->is_null()) {
      std::vector<json> items;
      if (c->is_string()) items.push_back(*c);
      else if (c->is_object() && c->contains("choices") && (*c)["choices"].is_array())
        for (const auto& x : (*c)["choices"]) items.push_back(x);
      else throw fail("choice", "expected a string or {\"choices\": [...]}");
      for (const auto& x : items) {
        if (!x.is_string() || !is_vispr_attribute_id(x.get<std::string>()))
          throw fail("choice", "expected VISPR attribute ids such as \"a17_color\"");
        labels.insert(x.get<std::string>());
      }
    }
    if (repeated) spdlog::warn("{}: {} is listed more than once; its labels are merged", path.string(), image);
  }
  return out;
}

}  // namespace

Manifest import_okvqa(const OkvqaImportOptions& o) {
  json questions = parse_json_file(o.questions);
  json annotations = parse_json_file(o.annotations);
  if (!questions.is_object() || !questions.contains("questions") || !questions["questions"].is_array())
    throw Error(o.questions.string() + ": field 'questions': missing or not an array");
  if (!annotations.is_object() || !annotations.contains("annotations") || !annotations["annotations"].is_array())
    throw Error(o.annotations.string() + ": field 'annotations': missing or not an array");

  std::string subtype = questions.value("data_subtype", "");
  if (subtype.empty()) subtype = o.questions.filename().string().find("train") != std::string::npos ? "train2014" : "val2014";
  std::string split = !o.split.empty() ? o.split : (subtype.find("train") != std::string::npos ? "train" : "test");

  std::map<int64_t, const json*> answers_of;  // question_id -> annotation
  const auto& anns = annotations["annotations"];
  for (size_t i = 0; i < anns.size(); ++i) {
    const auto& a = anns[i];
    if (!a.is_object() || !a.contains("question_id") || !a["question_id"].is_number_integer())
      throw Error(o.annotations.string() + ": annotation " + std::to_string(i) + ": field 'question_id': missing or not an integer");
    if (!a.contains("answers") || !a["answers"].is_array())
      throw Error(o.annotations.string() + ": annotation " + std::to_string(i) + ": field 'answers': missing or not an array");
    answers_of[a["question_id"].get<int64_t>()] = &a;
  }
  std::map<std::string, std::set<std::string>> privacy;
  if (!o.privacy.empty()) privacy = read_privacy(o.privacy);

  Manifest m;
  m.name = "okvqa-" + subtype;
  m.base_dir = fs::absolute(o.coco_images);
  if (!o.privacy.empty()) m.attributes = vispr7_attributes();
  const auto& qs = questions["questions"];
  for (size_t i = 0; i < qs.size(); ++i) {
    const auto& q = qs[i];
    auto fail = [&](const std::string& field, const std::string& what) {
      return Error(o.questions.string() + ": question " + std::to_string(i) + ": field '" + field + "': " + what);
    };
    if (!q.is_object()) throw fail("(entry)", "expected an object");
    if (!q.contains("question_id") || !q["question_id"].is_number_integer()) throw fail("question_id", "missing or not an integer");
    if (!q.contains("image_id") || !q["image_id"].is_number_integer()) throw fail("image_id", "missing or not an integer");
    if (!q.contains("question") || !q["question"].is_string()) throw fail("question", "missing or not a string");
    int64_t qid = q["question_id"].get<int64_t>();
    auto it = answers_of.find(qid);
    if (it == answers_of.end()) throw fail("question_id", std::to_string(qid) + " has no annotation in " + o.annotations.string());
    char file[64];
    std::snprintf(file, sizeof file, "COCO_%s_%012lld.jpg", subtype.c_str(), static_cast<long long>(q["image_id"].get<int64_t>()));
    auto labels = privacy.find(file);
    if (o.only_annotated && labels == privacy.end()) continue;

    Sample s;
    s.id = "q" + std::to_string(qid);
    s.split = split;
    s.media.images = {subtype + "/" + file};
    s.task.kind = Task::Kind::kVqa;
    s.task.vqa.question = q["question"].get<std::string>();
    const json& ann = *it->second;
    s.task.vqa.question_type = ann.value("question_type", "");
    for (const auto& a : ann["answers"]) {
      if (!a.is_object() || !a.contains("answer") || !a["answer"].is_string())
        throw Error(o.annotations.string() + ": question_id " + std::to_string(qid) + ": field 'answers[].answer': missing or not a string");
      s.task.vqa.answers.push_back(a["answer"].get<std::string>());
    }
    if (s.task.vqa.answers.empty())
      throw Error(o.annotations.string() + ": question_id " + std::to_string(qid) + ": field 'answers': empty");
    if (labels != privacy.end())
      for (const auto& attr : m.attributes) s.privacy.attributes[attr] = labels->second.count(attr) ? 1 : 0;
    m.samples.push_back(std::move(s));
  }
  return m;
}

}  // namespace scrim
