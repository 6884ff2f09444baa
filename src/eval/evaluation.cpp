#include "scrim/eval/evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <opencv2/imgproc.hpp>

#include "scrim/core/base64.h"
#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/core/paired_difference.h"
#include "scrim/data/manifest.h"
#include "scrim/data/sample_media.h"
#include "scrim/distributed/process_group.h"
#include "scrim/distributed/shard.h"
#include "scrim/eval/metrics.h"
#include "scrim/media/image_io.h"
#include "scrim/privacy/detectors.h"
#include "scrim/privacy/protector.h"
#include "scrim/task/answer_normalization.h"
#include "scrim/task/scorer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {
namespace {

// One sample's media, loaded once: its frames (one for a still image).
struct Loaded {
  const Sample* sample;
  std::vector<cv::Mat> frames;
};

std::vector<Loaded> load(const Manifest& m, const std::string& split, int limit, int frames) {
  std::vector<Loaded> out;
  for (const Sample* s : m.split(split)) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
    out.push_back({s, load_sample_frames(m, *s, frames)});
  }
  return out;
}

std::vector<std::vector<cv::Mat>> protect_all(const std::string& spec, const std::vector<Loaded>& data) {
  auto protector = make_protector(spec);
  std::vector<std::vector<cv::Mat>> out;
  out.reserve(data.size());
  for (const auto& d : data) {
    // A video's frames share one session (frame memory); a still is protected alone.
    std::unique_ptr<VideoSession> video = d.sample->media.is_video() ? protector->video_session() : nullptr;
    std::vector<cv::Mat> frames;
    for (const auto& f : d.frames) frames.push_back(video ? video->protect(f) : protector->protect(f));
    out.push_back(std::move(frames));
  }
  return out;
}

// The attacker sees one frame per sample: the middle one.
AttackerData attacker_data(const std::vector<Loaded>& data, const std::vector<std::vector<cv::Mat>>& protected_frames,
                           const std::vector<std::string>& attributes, const std::map<std::string, int>& identity_index) {
  AttackerData a;
  for (size_t i = 0; i < data.size(); ++i) {
    const auto& frames = protected_frames[i];
    a.images.push_back(frames[frames.size() / 2]);
    std::vector<int> row;
    for (const auto& attr : attributes) {
      auto it = data[i].sample->privacy.attributes.find(attr);
      row.push_back(it == data[i].sample->privacy.attributes.end() ? -1 : it->second);
    }
    a.attributes.push_back(row);
    const auto& id = data[i].sample->privacy.identity;
    a.identity.push_back(id ? identity_index.at(*id) : -1);
  }
  return a;
}

// What an attacker that reads nothing scores on the test labels: the cMAP of a
// constant scorer (the mean prevalence), each attribute's prevalence, and the
// identity majority-class rate. Protected or not, the labels are the same.
json privacy_floor(const AttackerData& test, const std::vector<std::string>& attributes) {
  std::vector<AttributeScores> labels(attributes.size());
  json prevalence = json::object();
  for (size_t a = 0; a < attributes.size(); ++a) {
    labels[a].attribute = attributes[a];
    for (const auto& row : test.attributes)
      if (row[a] >= 0) labels[a].labels.push_back(row[a]);
    labels[a].scores.assign(labels[a].labels.size(), 0.0);
    if (auto ap = average_precision(labels[a].scores, labels[a].labels)) prevalence[attributes[a]] = *ap;
  }
  return {{"cmap_floor", uninformative_cmap(labels)},
          {"identity_floor", majority_class_rate(test.identity)},
          {"attribute_prevalence", prevalence}};
}

std::string png_data_url(const cv::Mat& img) {
  return "data:image/png;base64," + base64_encode(encode_image(img, ImageFormat::kPng));
}

// Job 0 of a protector: utility through the MLLM, the MLLM asked the private
// questions, the OCR and face-detector attackers, the example images, and the
// queries this took.
json mllm_and_independent_attackers(const std::string& spec, const Manifest& m, const std::vector<Loaded>& test,
                                    const std::vector<std::vector<cv::Mat>>& p_test, const OracleStack& stack, const EvalOptions& o,
                                    RegionDetector* ocr, RegionDetector* faces, const std::function<void(const std::string&)>& say) {
  // Every attempt when the budget layer counts them (retries included), else the requests.
  int64_t requests_made = 0;
  auto queries_before = stack.budget ? stack.budget->usage().queries : 0;
  auto hits_before = stack.cache ? stack.cache->hits() : 0;
  json r = json::object();
  // Utility through the MLLM.
  say(spec + ": asking the MLLM about " + std::to_string(test.size()) + " test samples");
  std::vector<OracleRequest> requests;
  std::vector<std::unique_ptr<TaskScorer>> scorers;
  std::vector<size_t> task_rows;
  for (size_t i = 0; i < test.size(); ++i) {
    if (test[i].sample->task.kind == Task::Kind::kNone) continue;
    scorers.push_back(scorer_for(test[i].sample->task));
    requests.push_back({p_test[i], scorers.back()->prompt(*test[i].sample, m), {}});
    task_rows.push_back(i);
  }
  auto replies = query_batch(*stack.oracle, requests, o.concurrency);
  requests_made += static_cast<int64_t>(requests.size());
  double utility = 0, prob = 0;
  int with_prob = 0;
  std::vector<double> per_question;  // in the test split's order: paired against another protector's
  // Per question type where the task names one (VQA): a protector can cost one
  // kind of question and leave the others alone.
  std::map<std::string, std::pair<double, int>> by_type;
  for (size_t k = 0; k < replies.size(); ++k) {
    const Sample& sample = *test[task_rows[k]].sample;
    auto s = scorers[k]->score(sample, m, replies[k]);
    utility += s.utility;
    per_question.push_back(s.utility);
    if (s.probability >= 0) prob += s.probability, ++with_prob;
    if (sample.task.kind == Task::Kind::kVqa && !sample.task.vqa.question_type.empty()) {
      auto& [sum, n] = by_type[sample.task.vqa.question_type];
      sum += s.utility;
      ++n;
    }
  }
  r["utility"] = replies.empty() ? 0.0 : utility / replies.size();
  if (!by_type.empty()) {
    json per = json::object();
    for (const auto& [t, v] : by_type) per[t] = v.first / v.second;
    r["utility_by_type"] = per;
  }
  r["utility_probability"] = with_prob ? prob / with_prob : -1.0;
  r["utility_questions"] = replies.size();
  r["utility_by_question"] = per_question;

  // The MLLM asked the private questions.
  std::vector<OracleRequest> leak_requests;
  std::vector<const VqaItem*> leak_items;
  for (size_t i = 0; i < test.size(); ++i)
    for (const auto& q : test[i].sample->privacy.questions) {
      leak_requests.push_back({p_test[i], q.question + " Answer with a single word or number.", {}});
      leak_items.push_back(&q);
    }
  if (!leak_requests.empty()) {
    auto leak_replies = query_batch(*stack.oracle, leak_requests, o.concurrency);
    requests_made += static_cast<int64_t>(leak_requests.size());
    std::map<std::string, std::pair<double, int>> by_type;
    double total = 0;
    for (size_t k = 0; k < leak_replies.size(); ++k) {
      double acc = vqa_accuracy(leak_replies[k].text, leak_items[k]->answers);
      total += acc;
      auto& [sum, n] = by_type[leak_items[k]->question_type];
      sum += acc;
      ++n;
    }
    json per = json::object();
    for (const auto& [t, v] : by_type) per[t] = v.first / v.second;
    r["mllm_leakage"] = total / leak_replies.size();
    r["mllm_leakage_by_type"] = per;
  }

  // Independent attackers on a subset of the protected test images.
  if (ocr != nullptr && faces != nullptr) {
    say(spec + ": OCR and face-detector attackers");
    double ocr_sum = 0;
    int ocr_n = 0, face_hits = 0, face_n = 0;
    for (size_t i = 0; i < test.size() && static_cast<int>(i) < o.independent_samples; ++i) {
      const Sample& s = *test[i].sample;
      cv::Mat img = p_test[i][p_test[i].size() / 2];
      cv::Mat big;
      double scale = std::max(1.0, 336.0 / std::min(img.cols, img.rows));  // small renders are read better enlarged
      cv::resize(img, big, cv::Size(), scale, scale, cv::INTER_CUBIC);
      if (!s.privacy.texts.empty()) {
        std::string read;
        for (const auto& d : ocr->detect(big)) read += d.text + " ";
        for (const auto& t : s.privacy.texts) ocr_sum += character_recall(t, read), ++ocr_n;
      }
      auto has_face = [&](const char* k) {
        auto it = s.privacy.attributes.find(k);
        return it != s.privacy.attributes.end() && it->second == 1;
      };
      if (has_face("a9_face_complete") || has_face("a10_face_partial")) {
        ++face_n;
        face_hits += !faces->detect(big).empty();
      }
    }
    r["ocr_character_recall"] = ocr_n ? ocr_sum / ocr_n : -1.0;
    r["face_detector_hit_rate"] = face_n ? static_cast<double>(face_hits) / face_n : -1.0;
  }

  json examples = json::array();
  for (int i = 0; i < o.examples && i < static_cast<int>(test.size()); ++i)
    examples.push_back({{"raw", png_data_url(test[i].frames[0])}, {"protected", png_data_url(p_test[i][0])}});
  r["examples"] = examples;
  r["queries"] = stack.budget ? stack.budget->usage().queries - queries_before : requests_made;
  r["cache_hits"] = (stack.cache ? stack.cache->hits() : 0) - hits_before;
  return r;
}

// Job 1 + k·A + a of a protector: attacker architecture a, retrained with seed k on the protected train split.
json retrained_attacker(const std::string& arch, uint64_t seed, const AttackerData& train, const AttackerData& test,
                        const std::vector<std::string>& attributes, size_t identities, int epochs) {
  AttackerOptions ao;
  ao.arch = arch;
  ao.epochs = epochs;
  ao.seed = seed;
  auto ar = train_and_test_attacker(train, test, attributes, static_cast<int>(identities), ao);
  json per_ap = json::object();
  for (const auto& [name, ap] : ar.attributes.per_attribute_ap) per_ap[name] = ap;
  return {{"arch", arch}, {"seed", ao.seed}, {"cmap", ar.attributes.cmap}, {"mean_f1", ar.attributes.mean_f1},
          {"identity_top1", ar.identity_top1}, {"per_attribute_ap", per_ap}, {"skipped_attributes", ar.attributes.skipped},
          {"epochs", ar.epochs_run}, {"validation_cmap", ar.validation_cmap}, {"seconds", ar.seconds}};
}

// This rank's share of the work: the results without the protectors (the data,
// the floor), and {"job", "result", "seconds"} for each job it ran. The jobs:
// per protector, job 0 asks the MLLM and runs the independent attackers, then one
// job per (seed, architecture). Each rank takes a contiguous share of the list,
// so it protects only the protectors it meets.
struct Share {
  json results;
  json parts;
};

size_t jobs_per_protector(const EvalOptions& o) { return 1 + static_cast<size_t>(o.attacker_seeds) * o.attackers.size(); }

Share run_share(const EvalOptions& o, const EvalProgress& say) {
  if (o.protectors.empty()) throw UsageError("eval: give at least one --protector");
  for (const auto& p : o.protectors) make_protector(p);  // validate every spec before any work
  for (const auto& a : o.attackers)
    if (std::find(attacker_architectures().begin(), attacker_architectures().end(), a) == attacker_architectures().end())
      throw UsageError("eval: unknown attacker '" + a + "' (use small, resnet18)");
  if (o.attacker_seeds < 1) throw UsageError("eval: --attacker-seeds must be at least 1");
  Manifest m = read_manifest(o.manifest);
  say("loading " + o.manifest.string());
  auto train = load(m, "train", o.max_train, o.frames);
  auto test = load(m, "test", o.max_test, o.frames);
  if (train.empty() || test.empty()) throw Error(o.manifest.string() + ": needs both a 'train' and a 'test' split");

  const std::vector<std::string> attributes = m.attribute_columns();
  std::map<std::string, int> identity_index;
  for (const auto* part : {&train, &test})
    for (const auto& l : *part)
      if (l.sample->privacy.identity) identity_index.emplace(*l.sample->privacy.identity, 0);
  int next_id = 0;
  for (auto& [_, v] : identity_index) v = next_id++;

  const OracleStack& stack = o.oracle;
  if (!stack.oracle) throw UsageError("eval: no oracle to query (--mllm is required)");
  json results = {{"manifest", o.manifest.string()},
                  {"mllm", stack.oracle->model_id()},
                  {"mllm_spec", o.mllm},
                  {"train_samples", train.size()},
                  {"test_samples", test.size()},
                  {"attributes", attributes},
                  {"identities", identity_index.size()},
                  {"attackers", o.attackers},
                  {"attacker_seeds", o.attacker_seeds},
                  {"protectors", json::array()}};
  {
    std::vector<std::vector<cv::Mat>> no_frames(test.size(), std::vector<cv::Mat>(1));
    results.update(privacy_floor(attacker_data(test, no_frames, attributes, identity_index), attributes));
  }
  std::unique_ptr<RegionDetector> ocr, faces;
  try {
    ocr = make_text_detector(0.0);
    faces = make_face_detector("yunet", 0.6);
  } catch (const Error& e) {
    say(std::string("independent attackers unavailable: ") + e.what());
  }

  const size_t per_protector = jobs_per_protector(o);
  const Shard share{o.group ? o.group->rank() : 0, o.group ? o.group->world_size() : 1};
  const auto [first, last] = shard_range(o.protectors.size() * per_protector, share);
  json parts = json::array();
  for (size_t p = 0; p < o.protectors.size(); ++p) {
    const std::string& spec = o.protectors[p];
    const size_t p_first = p * per_protector;
    const size_t lo = std::max(first, p_first), hi = std::min(last, p_first + per_protector);
    if (lo >= hi) continue;
    auto start = std::chrono::steady_clock::now();  // the first job here also pays for the protection
    const bool attacks = hi > p_first + 1;
    say(spec + ": protecting " + std::to_string((attacks ? train.size() : 0) + test.size()) + " samples");
    auto p_test = protect_all(spec, test);
    auto p_train = attacks ? protect_all(spec, train) : std::vector<std::vector<cv::Mat>>{};
    AttackerData a_train, a_test;
    if (attacks) {
      a_train = attacker_data(train, p_train, attributes, identity_index);
      a_test = attacker_data(test, p_test, attributes, identity_index);
    }
    for (size_t j = lo; j < hi; ++j) {
      json result;
      if (j == p_first) {
        result = mllm_and_independent_attackers(spec, m, test, p_test, stack, o, ocr.get(), faces.get(), say);
      } else {
        const size_t k = (j - p_first - 1) / o.attackers.size();
        const std::string& arch = o.attackers[(j - p_first - 1) % o.attackers.size()];
        say(spec + ": training the " + arch + " attacker on " + std::to_string(a_train.images.size()) + " protected images" +
            (o.attacker_seeds > 1 ? " (seed " + std::to_string(k + 1) + " of " + std::to_string(o.attacker_seeds) + ")" : ""));
        result = retrained_attacker(arch, o.seed + k, a_train, a_test, attributes, identity_index.size(), o.attacker_epochs);
      }
      auto now = std::chrono::steady_clock::now();
      parts.push_back({{"job", j}, {"result", std::move(result)}, {"seconds", std::chrono::duration<double>(now - start).count()}});
      start = now;
    }
  }
  return {std::move(results), std::move(parts)};
}

}  // namespace

json run_evaluation(const EvalOptions& o, const EvalProgress& progress) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  Share local;
  try {
    local = run_share(o, say);
  } catch (const std::exception& e) {
    // The other ranks learn of it at once, instead of waiting for a rank that will never share.
    if (o.group && o.group->distributed()) o.group->share_text("eval-jobs", json{{"error", one_line(e.what())}}.dump());
    throw;
  }
  json& results = local.results;
  json& parts = local.parts;
  const size_t per_protector = jobs_per_protector(o);
  if (o.group && o.group->distributed()) {
    o.group->share_text("eval-jobs", parts.dump());
    parts = json::array();
    auto texts = o.group->gather_text("eval-jobs");
    for (size_t r = 0; r < texts.size(); ++r) {
      json theirs = json::parse(texts[r]);
      if (theirs.is_object()) throw Error("eval: rank " + std::to_string(r) + " failed: " + theirs.value("error", std::string("?")));
      for (auto& part : theirs) parts.push_back(std::move(part));
    }
  }
  std::map<size_t, const json*> by_job;
  for (const auto& part : parts) by_job[part["job"].get<size_t>()] = &part;
  if (by_job.size() != o.protectors.size() * per_protector)
    throw Error("eval: " + std::to_string(by_job.size()) + " of " + std::to_string(o.protectors.size() * per_protector) + " jobs came back");

  for (size_t p = 0; p < o.protectors.size(); ++p) {
    const size_t p_first = p * per_protector;
    json r = by_job.at(p_first)->at("result");
    r["protector"] = make_protector(o.protectors[p])->spec();
    double seconds = 0;
    for (size_t j = p_first; j < p_first + per_protector; ++j) seconds += by_job.at(j)->at("seconds").get<double>();

    // Retrained attackers: worst case over architectures, per seed; then the mean over seeds.
    json attackers = json::array();
    std::vector<double> cmap_by_seed;
    double sum_cmap = 0, sum_f1 = 0, sum_id = 0;
    for (int k = 0; k < o.attacker_seeds; ++k) {
      double worst_cmap = 0, worst_f1 = 0, worst_id = -1;
      for (size_t a = 0; a < o.attackers.size(); ++a) {
        const json& ar = by_job.at(p_first + 1 + k * o.attackers.size() + a)->at("result");
        attackers.push_back(ar);
        worst_cmap = std::max(worst_cmap, ar["cmap"].get<double>());
        worst_f1 = std::max(worst_f1, ar["mean_f1"].get<double>());
        worst_id = std::max(worst_id, ar["identity_top1"].get<double>());
      }
      cmap_by_seed.push_back(worst_cmap);
      sum_cmap += worst_cmap, sum_f1 += worst_f1, sum_id += worst_id;
    }
    const double seeds = o.attacker_seeds;
    const double mean_cmap = sum_cmap / seeds;  // of the per-seed worst cases
    r["attackers"] = attackers;
    r["cmap"] = mean_cmap;
    r["mean_f1"] = sum_f1 / seeds;
    r["identity_top1"] = sum_id / seeds;
    if (o.attacker_seeds > 1) {
      double ss = 0;
      for (double c : cmap_by_seed) ss += (c - mean_cmap) * (c - mean_cmap);
      r["cmap_by_seed"] = cmap_by_seed;
      r["cmap_sd"] = std::sqrt(ss / (seeds - 1));  // sample standard deviation over seeds
      // The strongest seed: an attacker that failed to train (near the floor) drags the mean down, not this.
      r["cmap_worst_seed"] = *std::max_element(cmap_by_seed.begin(), cmap_by_seed.end());
    }
    r["privacy"] = 1.0 - mean_cmap;
    r["seconds"] = seconds;  // summed over the ranks that worked on this protector
    results["protectors"].push_back(r);
  }

  // Leakage: how much of raw's readable excess over the floor each protector leaves.
  const double floor = results["cmap_floor"];
  auto& rows = results["protectors"];
  auto raw = std::find_if(rows.begin(), rows.end(), [](const json& r) { return r["protector"] == "raw"; });
  if (raw != rows.end()) {
    const double raw_cmap = (*raw)["cmap"];
    results["cmap_raw"] = raw_cmap;
    for (auto& r : rows)
      if (auto l = leakage(r["cmap"], floor, raw_cmap)) r["leakage"] = *l;
    if (raw->contains("cmap_worst_seed")) {
      const double raw_worst = (*raw)["cmap_worst_seed"];
      for (auto& r : rows)
        if (auto l = leakage(r["cmap_worst_seed"], floor, raw_worst)) r["leakage_worst_seed"] = *l;
    }
  }

  // Utility against raw's on the same questions, with the paired difference's standard error: a gap of a few
  // questions in a thousand is often inside it.
  if (raw != rows.end() && raw->contains("utility_by_question")) {
    const auto raw_utilities = (*raw)["utility_by_question"].get<std::vector<double>>();
    for (auto& r : rows) {
      const auto utilities = r["utility_by_question"].get<std::vector<double>>();
      if (utilities.size() != raw_utilities.size() || utilities.size() < 2) continue;
      const auto d = paired_difference(utilities, raw_utilities);
      r["utility_vs_raw"] = {d.mean, d.standard_error};
    }
  }

  // The trade-off: utility against privacy (1 - worst attacker cMAP).
  std::vector<ParetoPoint> points;
  for (const auto& r : results["protectors"]) points.push_back({r["utility"], r["privacy"], r["protector"]});
  json front = json::array();
  for (const auto& p : pareto_front(points)) front.push_back(p.name);
  results["pareto_front"] = front;
  results["hypervolume"] = hypervolume(points, {0.0, 0.0, "reference"});
  return results;
}

}  // namespace scrim
