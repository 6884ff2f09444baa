#include "method/training_set.h"

#include <algorithm>
#include <set>

#include "scrim/core/error.h"
#include "scrim/data/sample_media.h"
#include "scrim/media/tensor_image.h"
#include "scrim/task/answer_normalization.h"

namespace scrim::method {

std::vector<int64_t> middle_frame_rows(const std::vector<std::vector<int64_t>>& groups) {
  std::vector<int64_t> middle;
  for (const auto& g : groups) middle.push_back(g[g.size() / 2]);
  return middle;
}

torch::Tensor stack_frames(const std::vector<torch::Tensor>& frames, const std::vector<int64_t>& rows,
                           std::vector<std::vector<int64_t>>* groups) {
  std::vector<torch::Tensor> parts;
  int64_t offset = 0;
  if (groups) groups->clear();
  for (auto r : rows) {
    const auto& f = frames[static_cast<size_t>(r)];
    parts.push_back(f);
    if (groups) {
      std::vector<int64_t> g(f.size(0));
      for (auto& i : g) i = offset++;
      groups->push_back(std::move(g));
    } else {
      offset += f.size(0);
    }
  }
  return torch::cat(parts);
}

torch::Tensor TrainingSet::stack(const std::vector<int64_t>& rows, std::vector<std::vector<int64_t>>* groups) const {
  return stack_frames(frames, rows, groups);
}

std::vector<torch::Tensor> protected_frames(const TrainingSet& set, const Protector& protector) { return protected_frames(set.frames, protector); }

std::vector<torch::Tensor> protected_frames(const std::vector<torch::Tensor>& samples, const Protector& protector) {
  std::vector<torch::Tensor> out;
  out.reserve(samples.size());
  for (const auto& f : samples) {
    auto session = protector.video_session();
    std::vector<torch::Tensor> frames;
    for (int64_t i = 0; i < f.size(0); ++i) frames.push_back(image_to_tensor(session->protect(tensor_to_image(f[i]))));
    out.push_back(torch::stack(frames));
  }
  return out;
}

TrainingSet load_training_set(const std::filesystem::path& path, const std::string& split, int size, int frames, int limit) {
  TrainingSet t;
  t.manifest = std::make_shared<Manifest>(read_manifest(path));
  const Manifest& m = *t.manifest;
  t.attributes = m.attribute_columns();
  for (const auto& s : m.samples)
    if (s.privacy.identity) t.identity_index.emplace(*s.privacy.identity, 0);
  int next = 0;
  for (auto& [_, v] : t.identity_index) v = next++;

  auto label_row = [&](const Sample& s, std::vector<float>& attrs, std::vector<int64_t>& ids) {
    for (const auto& a : t.attributes) {
      auto it = s.privacy.attributes.find(a);
      attrs.push_back(it == s.privacy.attributes.end() ? -1.0f : static_cast<float>(it->second));
    }
    ids.push_back(s.privacy.identity ? t.identity_index.at(*s.privacy.identity) : -1);
  };
  auto labelled = [](const Sample& s) { return !s.privacy.attributes.empty() || s.privacy.identity.has_value(); };
  const auto rows = m.split(split);
  const bool privacy_only = std::any_of(rows.begin(), rows.end(),
                                        [&](const Sample* s) { return s->task.kind == Task::Kind::kNone && labelled(*s); });

  std::vector<float> attrs, privacy_attrs;
  std::vector<int64_t> ids, privacy_ids;
  for (const Sample* s : rows) {
    const bool task = s->task.kind != Task::Kind::kNone;
    const bool task_room = task && !(limit > 0 && static_cast<int>(t.samples.size()) >= limit);
    const bool privacy_room = privacy_only && labelled(*s) && !(limit > 0 && static_cast<int>(t.privacy.size()) >= limit);
    if (!task_room && !privacy_room) continue;
    auto f = images_to_batch(load_sample_frames(m, *s, frames), size);
    if (privacy_room) {
      t.privacy.samples.push_back(s);
      t.privacy.frames.push_back(f);
      label_row(*s, privacy_attrs, privacy_ids);
    }
    if (!task_room) continue;
    t.samples.push_back(s);
    t.frames.push_back(f);
    t.scorers.push_back(scorer_for(s->task));
    t.prompts.push_back(t.scorers.back()->prompt(*s, m));
    t.answers.push_back(s->task.kind == Task::Kind::kAction ? normalize_vqa_answer(s->task.label) : majority_answer(s->task.vqa.answers));
    label_row(*s, attrs, ids);
  }
  if (t.samples.empty()) throw Error(path.string() + ": no '" + split + "' samples with a task");
  const auto columns = static_cast<int64_t>(t.attributes.size());
  auto n = static_cast<int64_t>(t.samples.size());
  t.attribute_labels = torch::tensor(attrs, torch::kFloat32).view({n, columns});
  t.identity_labels = torch::tensor(ids, torch::kLong);
  if (privacy_only) {
    auto p = static_cast<int64_t>(t.privacy.size());
    t.privacy.attribute_labels = torch::tensor(privacy_attrs, torch::kFloat32).view({p, columns});
    t.privacy.identity_labels = torch::tensor(privacy_ids, torch::kLong);
  }
  return t;
}

}  // namespace scrim::method
