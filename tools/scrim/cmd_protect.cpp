// `scrim protect`: apply a protector to images, folders (mirrored) and videos.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/core/progress.h"
#include "scrim/distributed/shard.h"
#include "scrim/media/image_io.h"
#include "scrim/media/video_io.h"
#include "scrim/privacy/protector.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim::cli {
namespace {

struct Job {
  fs::path in, out;
  bool video;
};

std::string catalog_text() {
  std::string out;
  for (const auto& p : protector_catalog()) {
    out += p.name + "  —  " + p.help + "\n    e.g. " + p.example + "\n";
    for (const auto& prm : p.params) out += "    " + prm.name + " (default " + prm.default_value + "): " + prm.help + "\n";
  }
  return out;
}

json catalog_json() {
  json j = json::array();
  for (const auto& p : protector_catalog()) {
    json params = json::array();
    for (const auto& prm : p.params) params.push_back({{"name", prm.name}, {"default", prm.default_value}, {"help", prm.help}});
    j.push_back({{"name", p.name}, {"example", p.example}, {"help", p.help}, {"params", params}});
  }
  return j;
}

json protect_one(const Protector& protector, const Job& job, int64_t max_frames) {
  auto start = std::chrono::steady_clock::now();
  json rec = {{"input", job.in.string()}, {"output", job.out.string()}, {"protector", protector.spec()}};
  if (job.video) {
    // Streamed: one frame in memory at a time, whatever the video's length.
    auto session = protector.video_session();  // frame memory for this video only
    auto v = map_video(job.in, job.out, [&](const cv::Mat& frame) { return session->protect(frame); }, max_frames);
    rec["kind"] = "video";
    rec["frames"] = v.frames;
    rec["fps"] = v.fps;
    rec["width"] = v.width;
    rec["height"] = v.height;
    rec["audio"] = "dropped";
  } else {
    cv::Mat img = read_image(job.in);
    write_image(job.out, protector.protect(img));
    rec["kind"] = "image";
    rec["width"] = img.cols;
    rec["height"] = img.rows;
  }
  rec["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rec["status"] = "ok";
  return rec;
}

// Refuses, before any work, what would otherwise fail once per input or lose
// files silently: --out naming a file, two inputs written to the same output
// (a.jpg given from two folders; clip.mov and clip.mp4), an input overwritten.
void check_outputs(std::vector<Job>& jobs, const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw UsageError("protect: --out " + out.string() + " is a file, not a folder");
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.in < b.in; });  // a stable record order
  std::map<fs::path, const Job*> by_output;
  for (const auto& j : jobs) {
    fs::path key = fs::weakly_canonical(j.out, ec);
    if (key.empty()) key = j.out;
    auto [it, fresh] = by_output.emplace(key, &j);
    if (!fresh && it->second->in != j.in)
      throw UsageError("protect: " + it->second->in.string() + " and " + j.in.string() + " would both be written to " + j.out.string() +
                       "; protect them into different --out folders");
    if (fs::exists(j.in, ec) && fs::exists(j.out, ec) && fs::equivalent(j.in, j.out, ec))
      throw UsageError("protect: " + j.out.string() + " would overwrite its input; choose another --out folder");
  }
  // The same file given twice is protected once.
  jobs.erase(std::unique(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.in == b.in && a.out == b.out; }), jobs.end());
}

// One process writes scrim-protect.jsonl; shard I of N writes only its own
// records, to scrim-protect-I-of-N.jsonl, so shards sharing --out never write one
// file. The shards' files concatenated in shard order hold the unsharded lines.
std::string record_name(const Shard& shard) {
  if (!shard.sharded()) return "scrim-protect.jsonl";
  return "scrim-protect-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) + ".jsonl";
}

}  // namespace

void add_protect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("protect", "Protect images, folders and videos with a protector");
  auto spec = std::make_shared<std::string>("blur:sigma=6");
  auto inputs = std::make_shared<std::vector<fs::path>>();
  auto out = std::make_shared<fs::path>();
  auto list = std::make_shared<bool>(false);
  auto workers = std::make_shared<int>(0);
  auto max_frames = std::make_shared<int64_t>(108000);
  auto shard_flag = std::make_shared<std::string>();
  cmd->add_option("--protector", *spec, "Protector spec (see --list)")->capture_default_str();
  cmd->add_option("INPUT", *inputs, "Image files, video files or folders (recursive)");
  cmd->add_option("--out", *out, "Output folder (folders are mirrored inside it)");
  cmd->add_flag("--list", *list, "List the protectors with their parameters and defaults");
  cmd->add_option("--workers", *workers, "Parallel workers for images (0: one per core)");
  cmd->add_option("--max-frames", *max_frames, "Refuse a video longer than this many frames (the default is an hour at 30 fps)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  cmd->add_option("--shard", *shard_flag,
                  "Protect only share I of N (0 <= I < N) of the sorted inputs; default: RANK/WORLD_SIZE when set. "
                  "The records go to scrim-protect-I-of-N.jsonl (see docs/distributed.md)");
  cmd->callback([=] {
    if (*list) {
      print_result(catalog_json(), catalog_text());
      return;
    }
    if (inputs->empty()) throw UsageError("protect: give at least one INPUT (or --list)");
    if (out->empty()) throw UsageError("protect: --out is required");
    make_protector(*spec);  // validate the spec before touching any file
    const Shard shard = resolve_shard(*shard_flag, [](const char* name) { return std::getenv(name); });
    std::vector<Job> jobs;
    for (const auto& in : *inputs) {
      std::error_code ec;
      if (fs::is_directory(in, ec)) {
        for (auto it = fs::recursive_directory_iterator(in); it != fs::recursive_directory_iterator(); ++it) {
          if (!it->is_regular_file()) continue;
          const auto& p = it->path();
          bool video = is_video_path(p);
          if (!video && !is_image_path(p)) continue;
          jobs.push_back({p, *out / fs::relative(p, in), video});
        }
      } else if (fs::is_regular_file(in, ec)) {
        bool video = is_video_path(in);
        if (!video && !is_image_path(in)) throw UsageError(in.string() + ": not an image or video file");
        jobs.push_back({in, *out / in.filename(), video});
      } else {
        throw Error(in.string() + ": no such file or folder");
      }
    }
    for (auto& j : jobs)
      if (j.video && lower_extension(j.out) != "mp4" && lower_extension(j.out) != "avi") j.out.replace_extension(".mp4");
    check_outputs(jobs, *out);  // over all the inputs, so every shard refuses the same collisions
    const size_t total = jobs.size();
    auto [first, last] = shard_range(total, shard);
    jobs = std::vector<Job>(jobs.begin() + static_cast<std::ptrdiff_t>(first), jobs.begin() + static_cast<std::ptrdiff_t>(last));

    std::vector<json> records(jobs.size());
    std::atomic<size_t> next{0};
    std::atomic<int> failures{0};
    std::mutex err_mutex;
    ProgressBar bar("protect", static_cast<int64_t>(jobs.size()), globals().quiet);
    auto worker = [&] {
      auto protector = make_protector(*spec);
      while (true) {
        size_t k = next.fetch_add(1);
        if (k >= jobs.size()) return;
        try {
          records[k] = protect_one(*protector, jobs[k], *max_frames);
        } catch (const std::exception& e) {
          ++failures;
          records[k] = {{"input", jobs[k].in.string()}, {"status", "error"}, {"error", one_line(e.what())}};
          std::lock_guard lock(err_mutex);
          std::fprintf(stderr, "scrim: error: %s\n", one_line(e.what()).c_str());
        }
        bar.advance();
      }
    };
    int n = *workers > 0 ? *workers : std::max(1u, std::thread::hardware_concurrency());
    n = std::min<int>(n, static_cast<int>(std::max<size_t>(1, jobs.size())));
    std::vector<std::thread> pool;
    for (int t = 0; t < n; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    bar.finish();

    std::string log;
    for (const auto& r : records) log += r.dump() + "\n";
    const fs::path record = *out / record_name(shard);
    write_file_atomic(record, log);
    json summary = {{"protector", make_protector(*spec)->spec()}, {"files", jobs.size()}, {"failed", failures.load()},
                    {"log", record.string()}};
    std::string of_shard;
    if (shard.sharded()) {
      summary["shard"] = std::to_string(shard.index) + "/" + std::to_string(shard.count);
      summary["files_in_all_shards"] = total;
      of_shard = " (shard " + summary["shard"].get<std::string>() + " of " + std::to_string(total) + " files)";
    }
    std::string line = "protected " + std::to_string(jobs.size() - failures.load()) + " of " + std::to_string(jobs.size()) + " files" +
                       of_shard + " with " + summary["protector"].get<std::string>() + "; record in " + record.string() + "\n";
    print_result(summary, line);
    if (failures > 0) throw Error(std::to_string(failures.load()) + " of " + std::to_string(jobs.size()) + " files could not be protected");
  });
}

}  // namespace scrim::cli
