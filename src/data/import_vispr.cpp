#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/data/importers.h"
#include "scrim/data/vispr_attributes.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {
namespace {

// "train2017" -> "train", "val2017" -> "val", "test2017" -> "test".
std::string split_from_folder(const std::string& name) {
  for (const char* s : {"train", "val", "test"})
    if (name.find(s) != std::string::npos) return s;
  return "";
}

}  // namespace

Manifest import_vispr(const VisprImportOptions& o, ImportReport* report) {
  ImportReport local;
  ImportReport& r = report ? *report : local;
  std::error_code ec;
  if (!fs::is_directory(o.annotations, ec)) throw Error(o.annotations.string() + ": not a folder");
  fs::path images = o.images.empty() ? o.annotations.parent_path() : o.images;
  std::vector<std::string> wanted = o.attributes.empty() ? vispr7_attributes() : o.attributes;
  for (const auto& a : wanted) {
    if (!is_vispr_attribute_id(a)) throw UsageError("import_vispr(): '" + a + "' is not a VISPR attribute id");
    if (auto why = misspelt_vispr_attribute(a); !why.empty()) throw UsageError("import_vispr(): " + why);
  }
  const auto& known = vispr_attribute_ids();

  std::vector<std::pair<std::string, fs::path>> files;  // (split, json file)
  for (const auto& dir : fs::directory_iterator(o.annotations)) {
    if (!dir.is_directory()) continue;
    std::string split = split_from_folder(dir.path().filename().string());
    if (split.empty()) continue;
    for (const auto& f : fs::directory_iterator(dir.path()))
      if (f.is_regular_file() && lower_extension(f.path()) == "json") files.emplace_back(split, f.path());
  }
  if (files.empty())
    throw Error(o.annotations.string() + ": no <train|val|test>*/ folders with annotation JSON files");
  std::sort(files.begin(), files.end());

  Manifest m;
  m.name = "vispr";
  m.base_dir = fs::absolute(images);
  std::set<std::string> seen_attributes;
  std::vector<std::pair<Sample, std::vector<std::string>>> rows;
  import_detail::IdSources ids;
  for (const auto& [split, file] : files) {
    json j;
    try {
      j = json::parse(read_file_text(file));
    } catch (const json::parse_error& e) {
      throw Error(file.string() + ": malformed JSON (" + one_line(e.what()) + ")");
    }
    auto field_error = [&](const std::string& field, const std::string& what) {
      return Error(file.string() + ": field '" + field + "': " + what);
    };
    if (!j.is_object()) throw field_error("(root)", "expected an object");
    if (!j.contains("image_path") || !j["image_path"].is_string()) throw field_error("image_path", "missing or not a string");
    if (!j.contains("labels") || !j["labels"].is_array()) throw field_error("labels", "missing or not an array");
    Sample s;
    s.id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : file.stem().string();
    ids.add(s.id, file.string());
    s.split = split;
    s.media.images = {j["image_path"].get<std::string>()};
    std::vector<std::string> labels;
    for (const auto& l : j["labels"]) {
      if (!l.is_string()) throw field_error("labels", "expected strings");
      labels.push_back(l.get<std::string>());
      if (auto why = misspelt_vispr_attribute(labels.back()); !why.empty()) throw field_error("labels", why);
      if (std::find(known.begin(), known.end(), labels.back()) == known.end())
        r.warn("labels with ids VISPR v1 does not use", labels.back());
      seen_attributes.insert(labels.back());
    }
    rows.emplace_back(std::move(s), std::move(labels));
  }
  if (o.all_attributes) wanted.assign(seen_attributes.begin(), seen_attributes.end());
  // VISPR's "a0_safe" marks images without any private attribute; it is not an attribute itself.
  wanted.erase(std::remove(wanted.begin(), wanted.end(), "a0_safe"), wanted.end());
  m.attributes = wanted;
  for (auto& [s, labels] : rows) {
    for (const auto& a : wanted)
      s.privacy.attributes[a] = std::find(labels.begin(), labels.end(), a) != labels.end() ? 1 : 0;
    m.samples.push_back(std::move(s));
  }
  r.set_read(files.size(), "annotation files");
  r.set_kept(m.samples.size());
  return m;
}

}  // namespace scrim
