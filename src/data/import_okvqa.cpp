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
std::map<std::string, std::set<std::string>> read_privacy(const fs::path& path, ImportReport& report) {
  json j = parse_json_file(path);
  if (!j.is_array()) throw Error(path.string() + ": expected an array of {image, id, choice}");
  std::map<std::string, std::set<std::string>> out;
  const auto& kept = vispr7_attributes();
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
        std::string id = x.get<std::string>();
        if (auto why = misspelt_vispr_attribute(id); !why.empty()) throw fail("choice", why);
        if (std::find(kept.begin(), kept.end(), id) == kept.end())
          report.warn("privacy labels outside the 7 attributes ignored", id);
        labels.insert(id);
      }
    }
    if (repeated) report.warn("images listed more than once in the privacy file (labels merged)", image);
  }
  return out;
}

}  // namespace

Manifest import_okvqa(const OkvqaImportOptions& o, ImportReport* report) {
  ImportReport local;
  ImportReport& r = report ? *report : local;
  if (o.only_annotated && o.privacy.empty()) throw UsageError("import_okvqa(): only_annotated needs a privacy file");
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
    int64_t qid = a["question_id"].get<int64_t>();
    std::string where = o.annotations.string() + ": annotation " + std::to_string(i) + " (question_id " + std::to_string(qid) + ")";
    if (!a.contains("answers") || !a["answers"].is_array()) throw Error(where + ": field 'answers': missing or not an array");
    if (!answers_of.emplace(qid, &a).second) throw Error(where + ": question_id listed twice");
  }
  std::map<std::string, std::set<std::string>> privacy;
  if (!o.privacy.empty()) privacy = read_privacy(o.privacy, r);
  std::set<std::string> matched_images;

  Manifest m;
  m.name = "okvqa-" + subtype;
  m.base_dir = fs::absolute(o.coco_images);
  if (!o.privacy.empty()) m.attributes = vispr7_attributes();
  import_detail::IdSources ids;
  const auto& qs = questions["questions"];
  for (size_t i = 0; i < qs.size(); ++i) {
    const auto& q = qs[i];
    std::string where = o.questions.string() + ": question " + std::to_string(i);
    if (q.is_object() && q.contains("question_id") && q["question_id"].is_number_integer())
      where += " (question_id " + std::to_string(q["question_id"].get<int64_t>()) + ")";
    auto fail = [&](const std::string& field, const std::string& what) {
      return Error(where + ": field '" + field + "': " + what);
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
    if (labels != privacy.end()) matched_images.insert(file);
    if (o.only_annotated && labels == privacy.end()) {
      r.drop("questions on images without privacy annotations");
      continue;
    }

    Sample s;
    s.id = "q" + std::to_string(qid);
    ids.add(s.id, where);
    s.split = split;
    s.media.images = {subtype + "/" + file};
    s.task.kind = Task::Kind::kVqa;
    s.task.vqa.question = q["question"].get<std::string>();
    const json& ann = *it->second;
    s.task.vqa.question_type = ann.value("question_type", "");
    for (const auto& a : ann["answers"]) {
      if (!a.is_object() || !a.contains("answer") || !a["answer"].is_string())
        throw Error(o.annotations.string() + ": question_id " + std::to_string(qid) + ": field 'answers[].answer': missing or not a string");
      std::string answer = a["answer"].get<std::string>();
      // Derived copies of the annotations hold a few empty answers: not an answer, and
      // not a reason to lose the question's other nine.
      if (answer.find_first_not_of(" \t") == std::string::npos) {
        r.warn("empty answer strings skipped", "question_id " + std::to_string(qid));
        continue;
      }
      s.task.vqa.answers.push_back(answer);
    }
    if (s.task.vqa.answers.empty()) {
      r.drop("questions without a non-empty answer");
      r.warn("questions dropped for want of a non-empty answer", "question_id " + std::to_string(qid));
      continue;
    }
    if (labels != privacy.end())
      for (const auto& attr : m.attributes) s.privacy.attributes[attr] = labels->second.count(attr) ? 1 : 0;
    m.samples.push_back(std::move(s));
  }
  for (const auto& [image, _] : privacy)
    if (!matched_images.count(image)) r.warn("privacy entries match no question's image", image);
  if (o.only_annotated && m.samples.empty())
    throw Error(o.privacy.string() + ": none of its " + std::to_string(privacy.size()) + " images is asked about in " +
                o.questions.string() + " (only-annotated would keep no question; images there are named COCO_" + subtype +
                "_<id>.jpg)");
  r.set_read(qs.size(), "questions");
  r.set_kept(m.samples.size());
  return m;
}

}  // namespace scrim
