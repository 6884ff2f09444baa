// `scrim reproduce` end to end on small fixtures in the published formats:
// UCF101 (class folders of .avi videos, classInd.txt and split lists), VISPR
// (per-image annotation JSON under train2017/ and test2017/), OK-VQA (question
// and annotation JSON, COCO-named images, the privacy file), with the tiny
// reference MLLM as the black box.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "reference/reference_fixture.h"
#include "scrim/media/image_io.h"
#include "scrim/media/video_io.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

// Pictures with people in them: the tiny reference's synthetic renders.
cv::Mat picture(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "synth/images/train/train-%06d.png", i % 48);
  cv::Mat img = read_image(testing::TinyReference::get().dir / name);
  cv::Mat small;
  cv::resize(img, small, cv::Size(48, 48));
  return small;
}

// UCF101: two classes, three training and two test videos each.
void write_ucf101(const fs::path& root) {
  const std::vector<std::string> classes = {"ApplyEyeMakeup", "Archery"};
  std::string classind, train, test;
  int n = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    classind += std::to_string(c + 1) + " " + classes[c] + "\r\n";
    for (int g = 1; g <= 5; ++g) {
      char video[96];
      std::snprintf(video, sizeof video, "%s/v_%s_g%02d_c01.avi", classes[c].c_str(), classes[c].c_str(), g);
      std::vector<cv::Mat> frames;
      for (int f = 0; f < 4; ++f) frames.push_back(picture(n + f));
      write_video(root / "UCF-101" / video, frames, 25);
      ++n;
      // The official lists: testlist holds groups 1-2 without labels, trainlist the rest with them.
      if (g <= 2) test += std::string(video) + "\r\n";
      else train += std::string(video) + " " + std::to_string(c + 1) + "\r\n";
    }
  }
  testing::write_text(root / "ucfTrainTestlist/classInd.txt", classind);
  testing::write_text(root / "ucfTrainTestlist/trainlist01.txt", train);
  testing::write_text(root / "ucfTrainTestlist/testlist01.txt", test);
}

// VISPR: eight training and four test images with per-image annotation files.
void write_vispr(const fs::path& root) {
  const std::vector<std::vector<std::string>> labels = {{"a17_color", "a4_gender"}, {"a9_face_complete"}, {"a17_color"}, {}};
  for (int i = 0; i < 12; ++i) {
    const std::string split = i < 8 ? "train2017" : "test2017";
    std::string id = "2017_";
    id += std::to_string(1000 + i);
    write_image(root / "images" / split / (id + ".jpg"), picture(20 + i));
    nlohmann::json a = {{"id", id}, {"image_path", "images/" + split + "/" + id + ".jpg"}, {"labels", labels[i % labels.size()]}};
    testing::write_text(root / "annotations" / split / (id + ".json"), a.dump());
  }
}

// OK-VQA: eight val2014 images with two questions each, and the privacy file for all of them.
void write_okvqa(const fs::path& root) {
  nlohmann::json questions = {{"data_subtype", "val2014"}, {"questions", nlohmann::json::array()}};
  nlohmann::json annotations = {{"annotations", nlohmann::json::array()}};
  nlohmann::json privacy = nlohmann::json::array();
  for (int i = 0; i < 8; ++i) {
    const int image_id = 100 + i;
    char file[64];
    std::snprintf(file, sizeof file, "COCO_val2014_%012d.jpg", image_id);
    write_image(root / "coco/val2014" / file, picture(30 + i));
    for (int q = 0; q < 2; ++q) {
      const int qid = image_id * 10 + q;
      questions["questions"].push_back({{"image_id", image_id}, {"question", q ? "What colour is the shirt?" : "What is the person doing?"},
                                        {"question_id", qid}});
      annotations["annotations"].push_back({{"image_id", image_id}, {"question_id", qid}, {"question_type", "other"},
                                            {"answers", {{{"answer", q ? "red" : "waving"}, {"answer_id", 1}}}}});
    }
    nlohmann::json entry = {{"image", file}, {"id", i}};
    if (i % 2 == 0) entry["choice"] = {{"choices", {"a17_color", "a4_gender"}}};
    else if (i % 4 == 1) entry["choice"] = "a10_face_partial";
    privacy.push_back(entry);
  }
  testing::write_text(root / "OpenEnded_mscoco_val2014_questions.json", questions.dump());
  testing::write_text(root / "mscoco_val2014_annotations.json", annotations.dump());
  testing::write_text(root / "privacy.json", privacy.dump());
}

// HMDB51 with PA-HMDB51's privacy annotations of the same videos: two actions, two training and two test
// videos each (split files "<video> <tag>"), every video annotated in the published per-action JSON.
void write_hmdb51_and_pa(const fs::path& root) {
  int n = 0;
  for (const std::string action : {"brush_hair", "clap"}) {
    std::string split_file;
    nlohmann::json pa = nlohmann::json::object();
    for (int v = 0; v < 4; ++v) {
      const std::string video = action + "_" + std::to_string(v) + ".avi";
      std::vector<cv::Mat> frames;
      for (int f = 0; f < 4; ++f) frames.push_back(picture(n + f));
      write_video(root / "hmdb51" / action / video, frames, 30);
      split_file += video + (v < 2 ? " 1 \n" : " 2 \n");
      pa[video] = {{"skin_color", {{0, 3, n % 2}}}, {"face", {{0, 3, n % 3}}}, {"gender", {{0, 3, {1, 2}}}},
                   {"nudity", {{0, 3, 0}}}, {"relationship", {{0, 3, n % 2}}}, {"review", true}};
      ++n;
    }
    testing::write_text(root / "splits" / (action + "_test_split1.txt"), split_file);
    testing::write_text(root / "PrivacyAttributes" / (action + ".json"), pa.dump());
  }
}

int run(const std::string& args, const fs::path& out, const fs::path& err) {
  std::string cmd = std::string(SCRIM_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
  return std::system(cmd.c_str());
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(ReproduceCli, TwoSettingsEndToEndThenEverythingReused) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  write_ucf101(d / "ucf101");
  write_vispr(d / "vispr");
  write_okvqa(d / "okvqa");
  const fs::path out = d / "repro";
  const std::string args =
      "--threads 1 reproduce --mllm reference:" + t.model_file.string() + " --out " + out.string() +
      " --ucf101-videos " + (d / "ucf101/UCF-101").string() + " --ucf101-splits " + (d / "ucf101/ucfTrainTestlist").string() +
      " --vispr-annotations " + (d / "vispr/annotations").string() +
      " --okvqa-questions " + (d / "okvqa/OpenEnded_mscoco_val2014_questions.json").string() +
      " --okvqa-annotations " + (d / "okvqa/mscoco_val2014_annotations.json").string() + " --coco " + (d / "okvqa/coco").string() +
      " --okvqa-privacy " + (d / "okvqa/privacy.json").string() +
      " --steps 2 --init-steps 2 --adversary-warmup 2 --batch 2 --probes 2 --size 32 --frames 2"
      " --attackers small --attacker-seeds 1 --attacker-epochs 1 --independent-samples 0 --max-train 5";

  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(run(args, d / "out1.txt", d / "err1.txt"), 0) << testing::read_text(d / "err1.txt");
  const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string printed = testing::read_text(d / "out1.txt");

  // The table, printed and written: one row per protector (six baselines and the learned anonymizer) per setting.
  EXPECT_NE(printed.find("ucf101-vispr (action top-1"), std::string::npos) << printed;
  EXPECT_NE(printed.find("okvqa (VQA accuracy"), std::string::npos) << printed;
  EXPECT_EQ(count(printed, "learned anonymizer"), 2u) << printed;
  const std::string md = testing::read_text(out / "table.md");
  EXPECT_EQ(count(md, "\n| ucf101-vispr | "), 7u) << md;
  EXPECT_EQ(count(md, "\n| okvqa | "), 7u) << md;
  EXPECT_NE(md.find("| ucf101-vispr | regions:faces,mode=blur | "), std::string::npos) << md;
  auto table = nlohmann::json::parse(testing::read_text(out / "table.json"));
  ASSERT_EQ(table["settings"].size(), 2u);
  for (const auto& s : table["settings"]) {
    ASSERT_EQ(s["rows"].size(), 7u) << s.dump();
    for (const auto& r : s["rows"]) {
      EXPECT_GE(r["utility"].get<double>(), 0.0);
      EXPECT_GT(r["cmap"].get<double>(), 0.0) << s["setting"] << " " << r["protector"];
      EXPECT_GT(r["cmap_floor"].get<double>(), 0.0);
      EXPECT_TRUE(r.contains("leakage")) << r.dump();  // raw was evaluated in the same run
    }
    EXPECT_EQ(s["rows"][0]["protector"], "raw");
    EXPECT_DOUBLE_EQ(s["rows"][0]["leakage"].get<double>(), 1.0);
    EXPECT_TRUE(fs::exists(s["report"].get<std::string>())) << s["report"];
  }
  // --max-train 5: five UCF101 videos and five VISPR images train; the test splits keep all (four and four).
  EXPECT_EQ(table["settings"][0]["train_samples"], 10);
  EXPECT_EQ(table["settings"][0]["test_samples"], 8);
  // The setting's manifest holds task samples without privacy labels and privacy-only samples without a task.
  const auto merged = read_manifest(out / "ucf101-vispr/data.jsonl");
  for (const auto& s : merged.samples) EXPECT_NE(s.task.kind == Task::Kind::kNone, s.privacy.attributes.empty()) << s.id;
  // OK-VQA: the annotated images split by image; each image's privacy labels once.
  const auto okvqa = read_manifest(out / "okvqa/data.jsonl");
  size_t images = 0;
  for (const auto& s : okvqa.samples) images += s.task.kind == Task::Kind::kNone;
  EXPECT_EQ(images, 8u);
  // Four images train: their four privacy samples and five of their eight questions (--max-train 5); four test.
  EXPECT_EQ(table["settings"][1]["train_samples"], 9);
  EXPECT_EQ(table["settings"][1]["test_samples"], 12);

  // Run again: every piece is reused; nothing is trained or evaluated anew.
  const auto results = out / "okvqa/eval/results.json", anonymizer = out / "ucf101-vispr/train/anonymizer.pt";
  const auto results_time = fs::last_write_time(results), anonymizer_time = fs::last_write_time(anonymizer);
  start = std::chrono::steady_clock::now();
  ASSERT_EQ(run(args, d / "out2.txt", d / "err2.txt"), 0) << testing::read_text(d / "err2.txt");
  const double second = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string again = testing::read_text(d / "out2.txt");
  EXPECT_EQ(count(again, "imports reused, training reused, evaluation reused"), 2u) << again;
  EXPECT_NE(testing::read_text(d / "err2.txt").find("reusing the trained anonymizer"), std::string::npos);
  EXPECT_EQ(fs::last_write_time(results), results_time);
  EXPECT_EQ(fs::last_write_time(anonymizer), anonymizer_time);
  EXPECT_LT(second, first * 0.7) << "first " << first << " s, second " << second << " s";
  EXPECT_EQ(testing::read_text(out / "table.md"), md);

  // A run that ended without its record (interrupted after its last checkpoint) resumes there, makes no step,
  // and keeps the queries it had counted.
  const auto stamp = out / "ucf101-vispr/train/reproduce.json";
  const auto before = nlohmann::json::parse(testing::read_text(stamp));
  fs::remove(stamp);
  ASSERT_EQ(run(args, d / "out3.txt", d / "err3.txt"), 0) << testing::read_text(d / "err3.txt");
  EXPECT_NE(testing::read_text(d / "out3.txt").find("ucf101-vispr: imports reused, training done"), std::string::npos)
      << testing::read_text(d / "out3.txt");
  const auto after = nlohmann::json::parse(testing::read_text(stamp));
  EXPECT_EQ(after["steps"], 2);
  EXPECT_EQ(after["queries"], before["queries"]);
  EXPECT_GT(after["queries"].get<int>(), 0);

  // Other training options beside a run are refused, naming them and the folder, before any training.
  std::string other = args;
  other.replace(other.find("--probes 2"), 10, "--probes 3");
  EXPECT_EQ(WEXITSTATUS(run(other, d / "out4.txt", d / "err4.txt")), 2);
  const std::string refused = testing::read_text(d / "err4.txt");
  EXPECT_NE(refused.find("training options changed since the run in " + (out / "ucf101-vispr/train").string() + " was started (probes)"),
            std::string::npos) << refused;
}

// The same videos as task samples (HMDB51) and as privacy-only samples (PA-HMDB51): the privacy samples'
// ids carry their data set's name, so both stay, pointing at one file.
TEST(ReproduceCli, Hmdb51BesidePaHmdb51SharesTheVideos) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  write_hmdb51_and_pa(d.path());
  const fs::path out = d / "repro";
  const std::string args = "--threads 1 reproduce --mllm reference:" + t.model_file.string() + " --out " + out.string() +
                           " --hmdb51-videos " + (d / "hmdb51").string() + " --hmdb51-splits " + (d / "splits").string() +
                           " --pa-hmdb51 " + (d / "PrivacyAttributes").string() +
                           " --steps 1 --init-steps 1 --adversary-warmup 1 --batch 2 --probes 1 --size 32 --frames 2"
                           " --attackers small --attacker-seeds 1 --attacker-epochs 1 --independent-samples 0 --protector raw blur:sigma=2";
  ASSERT_EQ(run(args, d / "out.txt", d / "err.txt"), 0) << testing::read_text(d / "err.txt");
  auto table = nlohmann::json::parse(testing::read_text(out / "table.json"));
  ASSERT_EQ(table["settings"].size(), 1u);
  EXPECT_EQ(table["settings"][0]["setting"], "hmdb51-pa-hmdb51");
  EXPECT_EQ(table["settings"][0]["rows"].size(), 3u);
  EXPECT_EQ(table["settings"][0]["train_samples"], 8);  // four videos, each a task sample and a privacy sample
  const auto m = read_manifest(out / "hmdb51-pa-hmdb51/data.jsonl");
  const Sample *task = nullptr, *privacy = nullptr;
  for (const auto& s : m.samples) {
    if (s.id == "clap_3") task = &s;
    if (s.id == "pa-hmdb51-clap_3") privacy = &s;
  }
  ASSERT_TRUE(task && privacy);
  EXPECT_EQ(task->media.video, privacy->media.video);
  EXPECT_EQ(task->split, "test");
  EXPECT_EQ(privacy->split, "test");
  EXPECT_EQ(privacy->privacy.attributes.at("a4_gender"), 1);  // [1, 2]: both present
  EXPECT_TRUE(fs::exists(m.resolve(task->media.video)));
}

TEST(ReproduceCli, UsageErrorsNameWhatIsMissing) {
  testing::ScratchDir d;
  const auto out = d / "o.txt", err = d / "e.txt";
  EXPECT_EQ(WEXITSTATUS(run("reproduce --mllm reference:x.pt --out " + (d / "r").string(), out, err)), 2);
  EXPECT_NE(testing::read_text(err).find("give the data of at least one setting"), std::string::npos) << testing::read_text(err);
  EXPECT_EQ(WEXITSTATUS(run("reproduce --mllm reference:x.pt --out " + (d / "r").string() + " --ucf101-videos a --ucf101-splits b", out, err)), 2);
  EXPECT_NE(testing::read_text(err).find("needs a privacy set"), std::string::npos) << testing::read_text(err);
  EXPECT_EQ(WEXITSTATUS(run("reproduce --mllm reference:x.pt --out " + (d / "r").string() + " --coco c", out, err)), 2);
  EXPECT_NE(testing::read_text(err).find("OK-VQA needs all four"), std::string::npos) << testing::read_text(err);
  EXPECT_FALSE(fs::exists(d / "r"));
}

}  // namespace scrim
