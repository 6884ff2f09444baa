#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/core/rng.h"
#include "scrim/data/manifest.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/media/video_io.h"
#include "data/synth/scene.h"

namespace fs = std::filesystem;

namespace scrim {

const std::vector<std::string>& synth_actions() {
  static const std::vector<std::string> kActions = [] {
    std::vector<std::string> v;
    for (int a = 0; a < synth::kNumActions; ++a) v.push_back(synth::action_name(static_cast<synth::Action>(a)));
    return v;
  }();
  return kActions;
}

const std::vector<std::string>& synth_identities() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const auto& id : synth::identities()) v.push_back(id.name);
    return v;
  }();
  return kNames;
}

const std::vector<std::string>& synth_attributes() {
  static const std::vector<std::string> kAttrs = {"a4_gender", "a9_face_complete", "a10_face_partial", "a17_color",
                                                  "text_legible"};
  return kAttrs;
}

namespace {

constexpr uint64_t kTrainStream = 0x7472, kTestStream = 0x7465;
constexpr double kClipFps = 8.0;

struct Drawn {
  synth::Scene scene;
  std::vector<VqaItem> questions;
  PrivacyLabels privacy;
};

// The animation times of a sample's frames: time 0 for a still picture.
std::vector<double> frame_times(int clips) {
  std::vector<double> times{0.0};
  for (int f = 1; f < clips; ++f) times.push_back(static_cast<double>(f) / clips);
  return times;
}

Drawn draw(uint64_t seed, const std::string& split, int index, int clips) {
  Rng rng(derive_seed(seed, split == "train" ? kTrainStream : kTestStream, static_cast<uint64_t>(index)));
  Drawn d;
  d.scene = synth::sample_scene(rng);
  d.questions = synth::task_questions(d.scene, rng);
  d.privacy = synth::privacy_labels(d.scene, frame_times(clips));
  return d;
}

std::string sample_id(const std::string& split, int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s-%06d", split.c_str(), index);
  return buf;
}

}  // namespace

cv::Mat render_synth_sample(uint64_t seed, const std::string& split, int index, int size) {
  Drawn d = draw(seed, split, index, 0);
  cv::Mat img;
  synth::render_scene(d.scene, size, 0.0, img);
  return img;
}

SynthSummary generate_synth(const SynthOptions& o, const std::function<void()>& progress) {
  if (o.train < 0 || o.test < 0 || o.train + o.test == 0) throw UsageError("data synth: --train and --test must give at least one sample");
  if (o.size < 32 || o.size > 2048) throw UsageError("data synth: --size must be between 32 and 2048");
  if (o.clips != 0 && o.clips < 8) throw UsageError("data synth: --clips must be 0 (still images) or at least 8 frames");
  if (o.out.empty()) throw UsageError("data synth: --out is required");
  std::error_code ec;
  if (fs::exists(o.out, ec) && !(fs::is_directory(o.out, ec) && fs::is_empty(o.out, ec)) && !o.overwrite)
    throw Error(o.out.string() + ": exists and is not empty (pass --overwrite to replace it)");

  auto start = std::chrono::steady_clock::now();
  fs::path out = fs::absolute(o.out).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  fs::path stage = out.parent_path() / ("." + out.filename().string() + ".partial-" + std::to_string(getpid()));
  fs::remove_all(stage, ec);
  fs::create_directories(stage / "images" / "train");
  fs::create_directories(stage / "images" / "test");
  if (o.clips) {
    fs::create_directories(stage / "clips" / "train");
    fs::create_directories(stage / "clips" / "test");
  }
  // Remove the staging folder on any failure, so nothing partial is left.
  struct StageGuard {
    fs::path path;
    bool keep = false;
    ~StageGuard() {
      std::error_code e;
      if (!keep) fs::remove_all(path, e);
    }
  } guard{stage};

  struct Job {
    std::string split;
    int index;
  };
  std::vector<Job> jobs;
  for (int i = 0; i < o.train; ++i) jobs.push_back({"train", i});
  for (int i = 0; i < o.test; ++i) jobs.push_back({"test", i});
  std::vector<Drawn> drawn(jobs.size());

  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    cv::Mat img;
    std::vector<cv::Mat> frames;
    while (true) {
      size_t k = next.fetch_add(1);
      if (k >= jobs.size()) return;
      try {
        const Job& job = jobs[k];
        drawn[k] = draw(o.seed, job.split, job.index, o.clips);
        std::string id = sample_id(job.split, job.index);
        synth::render_scene(drawn[k].scene, o.size, 0.0, img);
        write_image(stage / "images" / job.split / (id + ".png"), img);
        if (o.clips) {
          frames.resize(static_cast<size_t>(o.clips));
          auto times = frame_times(o.clips);
          for (int f = 0; f < o.clips; ++f) synth::render_scene(drawn[k].scene, o.size, times[f], frames[f]);
          write_video(stage / "clips" / job.split / (id + ".mp4"), frames, kClipFps);
        }
        if (progress) progress();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = jobs.size();
        return;
      }
    }
  };
  int n_threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int t = 0; t < n_threads; ++t) pool.emplace_back(worker);
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);

  SynthSummary summary;
  Manifest actions, vqa;
  actions.name = vqa.name = "synth";
  actions.label_sets["actions"] = synth_actions();
  actions.attributes = vqa.attributes = synth_attributes();
  actions.base_dir = vqa.base_dir = stage;
  for (size_t k = 0; k < jobs.size(); ++k) {
    const Job& job = jobs[k];
    const Drawn& d = drawn[k];
    std::string id = sample_id(job.split, job.index);
    std::string image = "images/" + job.split + "/" + id + ".png";
    Sample a;
    a.id = id;
    a.split = job.split;
    if (o.clips) {
      a.media.video = "clips/" + job.split + "/" + id + ".mp4";
      for (int f = 0; f < o.clips; ++f) a.media.frames.push_back(f);
      ++summary.videos;
    } else {
      a.media.images = {image};
    }
    ++summary.images;
    a.task.kind = Task::Kind::kAction;
    a.task.label = synth::action_name(d.scene.people[0].action);
    a.task.label_set = "actions";
    a.privacy = d.privacy;
    summary.privacy_questions += static_cast<int>(a.privacy.questions.size());
    actions.samples.push_back(a);
    for (size_t q = 0; q < d.questions.size(); ++q) {
      Sample v;
      v.id = id + "-q" + std::to_string(q);
      v.split = job.split;
      v.media.images = {image};
      v.task.kind = Task::Kind::kVqa;
      v.task.vqa = d.questions[q];
      v.privacy = d.privacy;
      v.privacy.questions.clear();  // asked once per image, in actions.jsonl
      vqa.samples.push_back(std::move(v));
      ++summary.vqa_questions;
    }
  }
  write_manifest(stage / "actions.jsonl", actions);
  write_manifest(stage / "vqa.jsonl", vqa);
  nlohmann::json info = {{"generator", "scrim data synth"},
                         {"version", SCRIM_VERSION},
                         {"seed", o.seed},
                         {"train", o.train},
                         {"test", o.test},
                         {"size", o.size},
                         {"clips", o.clips},
                         {"actions", synth_actions()},
                         {"identities", synth_identities()},
                         {"attributes", synth_attributes()}};
  write_file_atomic(stage / "synth.json", info.dump(2) + "\n");

  if (fs::exists(out, ec)) fs::remove_all(out);
  fs::rename(stage, out, ec);
  if (ec) throw Error(out.string() + ": cannot move the generated data set into place: " + ec.message());
  guard.keep = true;
  summary.actions_manifest = out / "actions.jsonl";
  summary.vqa_manifest = out / "vqa.jsonl";
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace scrim
