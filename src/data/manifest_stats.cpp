#include "scrim/data/manifest_stats.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

namespace scrim {

using nlohmann::json;

json manifest_stats(const Manifest& m) {
  json st;
  st["name"] = m.name;
  st["samples"] = m.samples.size();
  json splits = json::object(), tasks = json::object(), labels = json::object(), qtypes = json::object(),
       attrs = json::object(), with_text = json::object();
  std::set<std::string> identities;
  int images = 0, videos = 0;
  auto bump = [](json& table, const std::string& key, const std::string& split) {
    json& row = table[key];
    if (!row.is_object()) row = json::object();
    row[split] = row.value(split, 0) + 1;
  };
  for (const auto& a : m.attributes) attrs[a] = json::object();
  for (const auto& s : m.samples) {
    splits[s.split] = splits.value(s.split, 0) + 1;
    (s.media.is_video() ? videos : images) += 1;
    switch (s.task.kind) {
      case Task::Kind::kAction:
        bump(tasks, "action", s.split);
        bump(labels, s.task.label, s.split);
        break;
      case Task::Kind::kVqa:
        bump(tasks, "vqa", s.split);
        bump(qtypes, s.task.vqa.question_type.empty() ? "(untyped)" : s.task.vqa.question_type, s.split);
        break;
      case Task::Kind::kNone:
        bump(tasks, "none", s.split);
        break;
    }
    for (const auto& q : s.privacy.questions)
      bump(qtypes, "privacy:" + (q.question_type.empty() ? std::string("(untyped)") : q.question_type), s.split);
    for (const auto& [attr, v] : s.privacy.attributes) {
      auto& row = attrs[attr];
      if (!row.contains(s.split)) row[s.split] = 0;
      if (v) row[s.split] = row[s.split].get<int>() + 1;
    }
    if (s.privacy.identity) identities.insert(*s.privacy.identity);
    if (!s.privacy.texts.empty()) with_text[s.split] = with_text.value(s.split, 0) + 1;
  }
  st["splits"] = splits;
  st["tasks"] = tasks;
  st["labels"] = labels;
  st["question_types"] = qtypes;
  st["attributes"] = attrs;
  st["identities"] = identities.size();
  st["with_text"] = with_text;
  st["media"] = {{"images", images}, {"videos", videos}};
  return st;
}

namespace {

std::string table(const std::string& title, const json& rows, const std::vector<std::string>& splits) {
  if (rows.empty()) return "";
  size_t width = title.size();
  for (const auto& [k, _] : rows.items()) width = std::max(width, k.size());
  char buf[64];
  std::string out = title + std::string(width - title.size() + 2, ' ');
  for (const auto& sp : splits) {
    std::snprintf(buf, sizeof buf, "%10s", sp.c_str());
    out += buf;
  }
  out += "\n";
  for (const auto& [k, row] : rows.items()) {
    out += "  " + k + std::string(width - k.size(), ' ');
    for (const auto& sp : splits) {
      std::snprintf(buf, sizeof buf, "%10d", row.value(sp, 0));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string format_manifest_stats(const json& st) {
  std::vector<std::string> splits;
  for (const auto& [k, _] : st["splits"].items()) splits.push_back(k);
  std::string out;
  if (!st["name"].get<std::string>().empty()) out += "manifest " + st["name"].get<std::string>() + "\n";
  out += "samples: " + std::to_string(st["samples"].get<int>()) + " (" +
         std::to_string(st["media"]["images"].get<int>()) + " image, " +
         std::to_string(st["media"]["videos"].get<int>()) + " video)\n";
  json split_row = json::object();
  split_row["samples"] = st["splits"];
  out += table("split", split_row, splits);
  out += table("task", st["tasks"], splits);
  out += table("action label", st["labels"], splits);
  out += table("question type", st["question_types"], splits);
  out += table("attribute (positives)", st["attributes"], splits);
  out += table("with legible text", json{{"samples", st["with_text"]}}, splits);
  out += "identities: " + std::to_string(st["identities"].get<int>()) + "\n";
  return out;
}

}  // namespace scrim
