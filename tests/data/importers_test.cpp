// Importers against small fixtures written in each data set's published format,
// including malformed ones.
#include "scrim/data/importers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/data/vispr_attributes.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const Sample& by_id(const Manifest& m, const std::string& id) {
  for (const auto& s : m.samples)
    if (s.id == id) return s;
  throw std::runtime_error("no sample " + id);
}

}  // namespace

TEST(ImportVispr, SevenAttributesBySplitFolder) {
  testing::ScratchDir d;
  testing::write_text(d / "annotations/train2017/2017_1.json",
                      R"({"id": "2017_1", "image_path": "images/train2017/2017_1.jpg", "labels": ["a17_color", "a4_gender", "a30_credit_card"]})");
  testing::write_text(d / "annotations/test2017/2017_2.json",
                      R"({"id": "2017_2", "image_path": "images/test2017/2017_2.jpg", "labels": ["a0_safe"]})");
  testing::write_text(d / "annotations/README.txt", "ignored");
  Manifest m = import_vispr({d / "annotations", d.path(), {}, false});
  ASSERT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(m.attributes, vispr7_attributes());
  const auto& a = by_id(m, "2017_1");
  EXPECT_EQ(a.split, "train");
  EXPECT_EQ(a.privacy.attributes.at("a17_color"), 1);
  EXPECT_EQ(a.privacy.attributes.at("a9_face_complete"), 0);
  EXPECT_EQ(a.privacy.attributes.count("a30_credit_card"), 0u);
  EXPECT_EQ(by_id(m, "2017_2").split, "test");
  EXPECT_EQ(m.resolve(a.media.images[0]), fs::absolute(d / "images/train2017/2017_1.jpg"));

  Manifest all = import_vispr({d / "annotations", d.path(), {}, true});
  EXPECT_EQ(all.attributes, (std::vector<std::string>{"a17_color", "a30_credit_card", "a4_gender"}));
  Manifest some = import_vispr({d / "annotations", d.path(), {"a30_credit_card"}, false});
  EXPECT_EQ(by_id(some, "2017_1").privacy.attributes.at("a30_credit_card"), 1);
  EXPECT_THROW(import_vispr({d / "annotations", d.path(), {"gender"}, false}), UsageError);
}

TEST(ImportVispr, MalformedFiles) {
  testing::ScratchDir d;
  testing::write_text(d / "a/train2017/x.json", R"({"image_path": "x.jpg", "labels": "a4_gender"})");
  EXPECT_NE(error_of([&] { import_vispr({d / "a", d.path(), {}, false}); }).find("field 'labels'"), std::string::npos);
  testing::write_text(d / "b/val2017/y.json", "{broken");
  EXPECT_NE(error_of([&] { import_vispr({d / "b", d.path(), {}, false}); }).find("y.json: malformed JSON"), std::string::npos);
  fs::create_directories(d / "c/other");
  EXPECT_NE(error_of([&] { import_vispr({d / "c", d.path(), {}, false}); }).find("no <train|val|test>"), std::string::npos);
}

TEST(ImportVispr, MisspeltLabelIdsAreErrorsNewerIdsCountedWarnings) {
  testing::ScratchDir d;
  testing::write_text(d / "a/train2017/1.json", R"({"id": "1", "image_path": "1.jpg", "labels": ["a4_gender", "a17_colour"]})");
  std::string error = error_of([&] { import_vispr({d / "a", d.path(), {}, false}); });
  EXPECT_NE(error.find("1.json: field 'labels': 'a17_colour' is not a VISPR attribute id (did you mean 'a17_color'?)"),
            std::string::npos) << error;
  testing::write_text(d / "b/train2017/2.json", R"({"id": "2", "image_path": "2.jpg", "labels": ["Gender"]})");
  EXPECT_NE(error_of([&] { import_vispr({d / "b", d.path(), {}, false}); }).find("'Gender' is not of the form"), std::string::npos);
  EXPECT_THROW(import_vispr({d / "a", d.path(), {"a9_face_full"}, false}), UsageError);

  // An id with a number VISPR v1 does not use (a later version's) is kept and counted.
  testing::write_text(d / "c/val2017/3.json", R"({"id": "3", "image_path": "3.jpg", "labels": ["a109_person_body", "a4_gender"]})");
  testing::write_text(d / "c/val2017/4.json", R"({"id": "4", "image_path": "4.jpg", "labels": ["a109_person_body"]})");
  ImportReport report;
  Manifest m = import_vispr({d / "c", d.path(), {}, false}, &report);
  EXPECT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(report.warnings("labels with ids VISPR v1 does not use"), 2u);
  EXPECT_EQ(report.summary_line(), "read 2 annotation files; kept 2 samples; dropped none");
  ASSERT_EQ(report.warning_lines().size(), 1u);
  EXPECT_EQ(report.warning_lines()[0], "2 labels with ids VISPR v1 does not use (e.g. a109_person_body)");
}

TEST(ImportVispr, DuplicateIdNamesBothFiles) {
  testing::ScratchDir d;
  testing::write_text(d / "a/train2017/x.json", R"({"id": "2017_1", "image_path": "x.jpg", "labels": []})");
  testing::write_text(d / "a/val2017/y.json", R"({"id": "2017_1", "image_path": "y.jpg", "labels": []})");
  std::string error = error_of([&] { import_vispr({d / "a", d.path(), {}, false}); });
  EXPECT_NE(error.find("duplicate id '2017_1'"), std::string::npos) << error;
  EXPECT_NE(error.find("train2017/x.json and "), std::string::npos) << error;
  EXPECT_NE(error.find("val2017/y.json"), std::string::npos) << error;
}

TEST(ImportUcf101, ClassesAndSplits) {
  testing::ScratchDir d;
  testing::write_text(d / "classInd.txt", "1 ApplyEyeMakeup\r\n2 Archery\r\n");
  testing::write_text(d / "trainlist01.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nArchery/v_Archery_g08_c01.avi 2\n");
  testing::write_text(d / "testlist01.txt", "Archery/v_Archery_g01_c01.avi\n");
  Manifest m = import_ucf101({d.path(), d / "UCF-101", 1});
  ASSERT_EQ(m.samples.size(), 3u);
  EXPECT_EQ(m.label_sets.at("ucf101"), (std::vector<std::string>{"ApplyEyeMakeup", "Archery"}));
  const auto& t = by_id(m, "v_Archery_g01_c01");
  EXPECT_EQ(t.split, "test");
  EXPECT_EQ(t.task.label, "Archery");
  EXPECT_EQ(t.media.video, "Archery/v_Archery_g01_c01.avi");

  testing::write_text(d / "trainlist02.txt", "Archery/v_Archery_g08_c01.avi 1\n");
  testing::write_text(d / "testlist02.txt", "");
  EXPECT_NE(error_of([&] { import_ucf101({d.path(), d.path(), 2}); }).find("trainlist02.txt:1: label 1 disagrees"), std::string::npos);
  testing::write_text(d / "trainlist03.txt", "Fencing/v_Fencing_g08_c01.avi 3\n");
  testing::write_text(d / "testlist03.txt", "");
  EXPECT_NE(error_of([&] { import_ucf101({d.path(), d.path(), 3}); }).find("class 'Fencing' is not in classInd.txt"), std::string::npos);
  testing::write_text(d / "classInd.txt", "1 A\n3 B\n");
  EXPECT_NE(error_of([&] { import_ucf101({d.path(), d.path(), 1}); }).find("classInd.txt:2"), std::string::npos);
}

TEST(ImportUcf101, ListCutMidLineIsAnErrorNamingTheLine) {
  testing::ScratchDir d;
  testing::write_text(d / "classInd.txt", "1 ApplyEyeMakeup\n2 Archery\n");
  testing::write_text(d / "testlist01.txt", "Archery/v_Archery_g01_c01.avi\n");
  // A copy cut inside the second line's file name, and one cut between the name and the label.
  testing::write_text(d / "trainlist01.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nArchery/v_Arch");
  std::string error = error_of([&] { import_ucf101({d.path(), d.path(), 1}); });
  EXPECT_NE(error.find("trainlist01.txt:2: expected 'ClassName/video.avi <label>'"), std::string::npos) << error;
  testing::write_text(d / "trainlist01.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nArchery/v_Archery_g08_c01.avi");
  EXPECT_NE(error_of([&] { import_ucf101({d.path(), d.path(), 1}); }).find("trainlist01.txt:2:"), std::string::npos);
  testing::write_text(d / "testlist01.txt", "Archery/v_Archery_g01_c01.a\n");
  testing::write_text(d / "trainlist01.txt", "Archery/v_Archery_g08_c01.avi 2\n");
  EXPECT_NE(error_of([&] { import_ucf101({d.path(), d.path(), 1}); }).find("testlist01.txt:1: expected 'ClassName/video.avi'"),
            std::string::npos);

  testing::write_text(d / "testlist01.txt", "Archery/v_Archery_g01_c01.avi\n\n");
  ImportReport report;
  Manifest m = import_ucf101({d.path(), d.path(), 1}, &report);
  EXPECT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(report.summary_line(), "read 2 list lines; kept 2 samples, 2 classes; dropped none");
  EXPECT_EQ(report.warnings("UCF101 class count is not the published 101"), 1u);
}

TEST(ImportHmdb51, TagsGiveSplits) {
  testing::ScratchDir d;
  testing::write_text(d / "splits/brush_hair_test_split1.txt", "a_brush.avi 1 \nb_brush.avi 2 \nc_brush.avi 0 \n");
  testing::write_text(d / "splits/wave_test_split1.txt", "d_wave.avi 2 \n");
  testing::write_text(d / "splits/wave_test_split2.txt", "d_wave.avi 1 \n");
  Manifest m = import_hmdb51({d / "splits", d / "videos", 1});
  ASSERT_EQ(m.samples.size(), 3u);
  EXPECT_EQ(m.label_sets.at("hmdb51"), (std::vector<std::string>{"brush_hair", "wave"}));
  EXPECT_EQ(by_id(m, "a_brush").split, "train");
  EXPECT_EQ(by_id(m, "b_brush").split, "test");
  EXPECT_EQ(by_id(m, "d_wave").media.video, "wave/d_wave.avi");
  testing::write_text(d / "bad/x_test_split1.txt", "e.avi 7\n");
  EXPECT_NE(error_of([&] { import_hmdb51({d / "bad", d.path(), 1}); }).find("x_test_split1.txt:1: tag 7"), std::string::npos);
  testing::write_text(d / "bad2/x_test_split1.txt", "lonely.avi\n");
  EXPECT_NE(error_of([&] { import_hmdb51({d / "bad2", d.path(), 1}); }).find("expected '<video.avi> <tag>'"), std::string::npos);
}

TEST(ImportHmdb51, ReportCountsTagZeroAndClasses) {
  testing::ScratchDir d;
  testing::write_text(d / "splits/brush_hair_test_split1.txt", "a_brush.avi 1 \nb_brush.avi 2 \nc_brush.avi 0 \n");
  testing::write_text(d / "splits/wave_test_split1.txt", "d_wave.avi 0 \n");
  ImportReport report;
  import_hmdb51({d / "splits", d / "videos", 1}, &report);
  EXPECT_EQ(report.summary_line(), "read 4 split lines; kept 2 samples, 2 classes; dropped 2 tag 0 (unused in split 1)");
  // A class missing from every split number is invisible in the files: the count is flagged.
  EXPECT_EQ(report.warning_lines(), std::vector<std::string>{"1 HMDB51 class count is not the published 51 (found 2 action classes)"});
}

TEST(ImportHmdb51, ClassFileMissingFromTheSplitSetIsAnError) {
  testing::ScratchDir d;
  testing::write_text(d / "splits/brush_hair_test_split1.txt", "a_brush.avi 1\n");
  testing::write_text(d / "splits/brush_hair_test_split2.txt", "a_brush.avi 2\n");
  testing::write_text(d / "splits/wave_test_split2.txt", "d_wave.avi 1\n");
  std::string error = error_of([&] { import_hmdb51({d / "splits", d.path(), 1}); });
  EXPECT_NE(error.find("wave_test_split1.txt: missing, though wave_test_split2.txt is present"), std::string::npos) << error;
  EXPECT_EQ(import_hmdb51({d / "splits", d.path(), 2}).samples.size(), 2u);
}

TEST(ImportPaHmdb51, MapsAttributesToVispr) {
  testing::ScratchDir d;
  testing::write_text(d / "pa/brush_hair.json", R"({
    "a_brush.avi": {"skin_color": [[0, 40, 1]], "face": [[0, 10, 2], [11, 40, 1]], "gender": [[0, 40, 2]],
                    "nudity": [[0, 40, 0]], "relationship": [[0, 40, 0]]},
    "b_brush.avi": {"skin_color": [[0, 20, 0]], "face": [[0, 20, 1]], "gender": [[0, 20, 0]],
                    "nudity": [[0, 20, 1]], "relationship": [[0, 20, 1]]}})");
  Manifest m = import_pa_hmdb51({d / "pa", d / "videos", {}, 1});
  ASSERT_EQ(m.samples.size(), 2u);
  const auto& a = by_id(m, "a_brush").privacy.attributes;
  EXPECT_EQ(a.at("a17_color"), 1);
  EXPECT_EQ(a.at("a9_face_complete"), 1);
  EXPECT_EQ(a.at("a10_face_partial"), 1);
  EXPECT_EQ(a.at("a4_gender"), 1);
  EXPECT_EQ(a.at("a12_semi_nudity"), 0);
  const auto& b = by_id(m, "b_brush").privacy.attributes;
  EXPECT_EQ(b.at("a9_face_complete"), 0);
  EXPECT_EQ(b.at("a10_face_partial"), 1);
  EXPECT_EQ(b.at("a12_semi_nudity"), 1);
  EXPECT_EQ(b.at("a64_rel_personal"), 1);
  EXPECT_EQ(b.at("a17_color"), 0);
  EXPECT_EQ(by_id(m, "a_brush").media.video, "brush_hair/a_brush.avi");

  // With HMDB51 split files, videos take their split and tag-0 videos are dropped.
  testing::write_text(d / "splits/brush_hair_test_split1.txt", "a_brush.avi 1\nb_brush.avi 0\n");
  Manifest s = import_pa_hmdb51({d / "pa", d / "videos", d / "splits", 1});
  ASSERT_EQ(s.samples.size(), 1u);
  EXPECT_EQ(s.samples[0].split, "train");

  testing::write_text(d / "bad/run.json", R"({"v.avi": {"face": [[5, 2, 1]]}})");
  EXPECT_NE(error_of([&] { import_pa_hmdb51({d / "bad", d.path(), {}, 1}); }).find("end_frame before start_frame"), std::string::npos);
  testing::write_text(d / "bad2/run.json", R"({"v.avi": {"hair": [[0, 2, 1]]}})");
  EXPECT_NE(error_of([&] { import_pa_hmdb51({d / "bad2", d.path(), {}, 1}); }).find("field 'v.avi.hair': unknown attribute"), std::string::npos);
  testing::write_text(d / "bad3/run.json", R"({"v.avi": {"face": [[0, 2]]}})");
  EXPECT_NE(error_of([&] { import_pa_hmdb51({d / "bad3", d.path(), {}, 1}); }).find("[start_frame, end_frame, value]"), std::string::npos);
}

TEST(ImportPaHmdb51, ReadsThePublishedFormat) {
  // As VITA-Group/PA-HMDB51 publishes it: the annotation tool's "review" and "note"
  // keys beside the attributes, and list values where several are present at once.
  testing::ScratchDir d;
  testing::write_text(d / "pa/hug.json", R"({
    "a_hug.avi": {"skin_color": [[0, 9, [2, 3]]], "relationship": [[0, 9, 1]], "face": [[0, 9, 0]], "review": true,
                  "nudity": [[0, 9, 0]], "gender": [[0, 4, [0, 1]], [5, 9, 0]], "note": "two people"},
    "b_hug.avi": {"skin_color": [[0, 9, 0]], "relationship": [[0, 9, 0]], "face": [[0, 9, 1]], "review": false,
                  "nudity": [[0, 9, 0]], "gender": [[0, 9, [0, 0]]]}})");
  ImportReport report;
  Manifest m = import_pa_hmdb51({d / "pa", d / "videos", {}, 1}, &report);
  ASSERT_EQ(m.samples.size(), 2u);
  const auto& a = by_id(m, "a_hug").privacy.attributes;
  EXPECT_EQ(a.at("a17_color"), 1);
  EXPECT_EQ(a.at("a4_gender"), 1);
  EXPECT_EQ(a.at("a64_rel_personal"), 1);
  EXPECT_EQ(a.at("a9_face_complete"), 0);
  const auto& b = by_id(m, "b_hug").privacy.attributes;
  EXPECT_EQ(b.at("a4_gender"), 0);
  EXPECT_EQ(b.at("a10_face_partial"), 1);
  EXPECT_EQ(report.warnings("non-attribute 'review' keys skipped"), 2u);
  EXPECT_EQ(report.warnings("non-attribute 'note' keys skipped"), 1u);
  EXPECT_EQ(report.summary_line(), "read 2 videos in 1 files; kept 2 samples, 1 classes; dropped none");

  // The alternative face grouping: any visible face is one attribute.
  PaHmdb51ImportOptions visible{d / "pa", d / "videos", {}, 1, PaHmdb51ImportOptions::Face::kVisible};
  Manifest v = import_pa_hmdb51(visible);
  EXPECT_EQ(std::count(v.attributes.begin(), v.attributes.end(), "a10_face_partial"), 0);
  EXPECT_EQ(by_id(v, "b_hug").privacy.attributes.at("a9_face_complete"), 1);
  EXPECT_EQ(by_id(v, "a_hug").privacy.attributes.at("a9_face_complete"), 0);
}

TEST(ImportPaHmdb51, ReportsTagZeroAndUnlistedVideosInOneLine) {
  testing::ScratchDir d;
  testing::write_text(d / "pa/wave.json", R"({"a_wave.avi": {"face": [[0, 1, 2]]}, "b_wave.avi": {"face": [[0, 1, 2]]},
    "c_wave.avi": {"face": [[0, 1, 2]]}, "d_wave.avi": {"face": [[0, 1, 2]]}})");
  testing::write_text(d / "splits/wave_test_split1.txt", "a_wave.avi 1\nb_wave.avi 0\nc_wave.avi 2\n");
  ImportReport report;
  Manifest m = import_pa_hmdb51({d / "pa", d / "videos", d / "splits", 1}, &report);
  ASSERT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(by_id(m, "c_wave").split, "test");
  EXPECT_EQ(report.summary_line(),
            "read 4 videos in 1 files; kept 2 samples, 1 classes; dropped 1 tag 0 (unused in HMDB51 split 1), "
            "1 not in the HMDB51 split 1 files");
  EXPECT_EQ(report.warnings("videos without 'gender' (taken as absent)"), 4u);
}

TEST(ImportPaHmdb51, DuplicateVideoNamesBothActionFiles) {
  testing::ScratchDir d;
  testing::write_text(d / "pa/hug.json", R"({"x.avi": {"face": [[0, 1, 1]]}})");
  testing::write_text(d / "pa/kiss.json", R"({"x.avi": {"face": [[0, 1, 1]]}})");
  std::string error = error_of([&] { import_pa_hmdb51({d / "pa", d.path(), {}, 1}); });
  EXPECT_NE(error.find("duplicate id 'x': "), std::string::npos) << error;
  EXPECT_NE(error.find("hug.json and "), std::string::npos) << error;
  EXPECT_NE(error.find("kiss.json"), std::string::npos) << error;
}

TEST(ImportPaHmdb51, ValuesOutOfRangeAreErrors) {
  testing::ScratchDir d;
  testing::write_text(d / "a/run.json", R"({"v.avi": {"face": [[0, 2, 1], [3, 5, 3]]}})");
  std::string error = error_of([&] { import_pa_hmdb51({d / "a", d.path(), {}, 1}); });
  EXPECT_NE(error.find("run.json: field 'v.avi.face': span 1: value 3 out of range 0..2"), std::string::npos) << error;
  testing::write_text(d / "b/run.json", R"({"v.avi": {"relationship": [[0, 2, [0, 2]]]}})");
  EXPECT_NE(error_of([&] { import_pa_hmdb51({d / "b", d.path(), {}, 1}); }).find("value 2 out of range 0..1"), std::string::npos);
  testing::write_text(d / "c/run.json", R"({"v.avi": {"gender": [[0, 2, -1]]}})");
  EXPECT_NE(error_of([&] { import_pa_hmdb51({d / "c", d.path(), {}, 1}); }).find("value -1 out of range"), std::string::npos);
  testing::write_text(d / "e/run.json", R"({"v.avi": {"nudity": [[0, 2, []]]}})");
  EXPECT_NE(error_of([&] { import_pa_hmdb51({d / "e", d.path(), {}, 1}); }).find("span 0: expected"), std::string::npos);
}

TEST(ImportPaHmdb51, ReadsTheSharedPublishedFiles) {
  fs::path real = fs::path(SCRIM_SHARED_DIR) / "data/pa-hmdb51/PrivacyAttributes";
  if (!fs::is_directory(real)) GTEST_SKIP() << real << " not present";
  ImportReport report;
  Manifest m = import_pa_hmdb51({real, "videos", {}, 1}, &report);
  ASSERT_EQ(m.samples.size(), 515u);
  EXPECT_EQ(m.label_sets.at("hmdb51").size(), 51u);
  std::map<std::string, int> positives;
  for (const auto& s : m.samples)
    for (const auto& [id, v] : s.privacy.attributes) positives[id] += v;
  EXPECT_EQ(positives, (std::map<std::string, int>{{"a4_gender", 506}, {"a9_face_complete", 278}, {"a10_face_partial", 280},
                                                   {"a12_semi_nudity", 306}, {"a17_color", 498}, {"a64_rel_personal", 88}}));
  EXPECT_EQ(report.warnings("non-attribute 'review' keys skipped"), 515u);
  EXPECT_EQ(report.warnings("non-attribute 'note' keys skipped"), 505u);
}

TEST(ImportOkvqa, JoinsQuestionsAnswersAndPrivacyQuirks) {
  testing::ScratchDir d;
  testing::write_text(d / "OpenEnded_mscoco_val2014_questions.json", R"({"data_subtype": "val2014", "questions": [
    {"image_id": 836, "question": "What sport is this?", "question_id": 8365},
    {"image_id": 1599, "question": "Who made this?", "question_id": 15995},
    {"image_id": 67422, "question": "What is he holding?", "question_id": 674225},
    {"image_id": 9, "question": "Unannotated image?", "question_id": 95}]})");
  testing::write_text(d / "mscoco_val2014_annotations.json", R"({"annotations": [
    {"image_id": 836, "question_id": 8365, "question_type": "eight", "answers": [{"answer": "tennis", "answer_id": 1}, {"answer": "tennis", "answer_id": 2}]},
    {"image_id": 1599, "question_id": 15995, "answers": [{"answer": "apple"}]},
    {"image_id": 67422, "question_id": 674225, "answers": [{"answer": "bat"}]},
    {"image_id": 9, "question_id": 95, "answers": [{"answer": "x"}]}]})");
  testing::write_text(d / "privacy.json", R"([
    {"image": "COCO_val2014_000000000836.jpg", "id": 5, "choice": "a17_color"},
    {"image": "COCO_val2014_000000001599.jpg", "id": 6, "choice": {"choices": ["a4_gender", "a10_face_partial"]}},
    {"image": "COCO_val2014_000000067422.jpg", "id": 148},
    {"image": "COCO_val2014_000000067422.jpg", "id": 148, "choice": "a9_face_complete"}])");
  OkvqaImportOptions o{d / "OpenEnded_mscoco_val2014_questions.json", d / "mscoco_val2014_annotations.json", d / "coco",
                       d / "privacy.json", false, ""};
  Manifest m = import_okvqa(o);
  ASSERT_EQ(m.samples.size(), 4u);
  const auto& q = by_id(m, "q8365");
  EXPECT_EQ(q.split, "test");
  EXPECT_EQ(q.media.images[0], "val2014/COCO_val2014_000000000836.jpg");
  EXPECT_EQ(q.task.vqa.answers, (std::vector<std::string>{"tennis", "tennis"}));
  EXPECT_EQ(q.privacy.attributes.at("a17_color"), 1);
  EXPECT_EQ(q.privacy.attributes.at("a4_gender"), 0);
  EXPECT_EQ(by_id(m, "q15995").privacy.attributes.at("a10_face_partial"), 1);
  EXPECT_EQ(by_id(m, "q674225").privacy.attributes.at("a9_face_complete"), 1);  // the twice-listed image: merged
  EXPECT_TRUE(by_id(m, "q95").privacy.attributes.empty());
  o.only_annotated = true;
  EXPECT_EQ(import_okvqa(o).samples.size(), 3u);

  testing::write_text(d / "bad_privacy.json", R"([{"image": "a.jpg", "choice": 7}])");
  o.privacy = d / "bad_privacy.json";
  EXPECT_NE(error_of([&] { import_okvqa(o); }).find("entry 0: field 'choice'"), std::string::npos);
  testing::write_text(d / "q_bad.json", R"({"questions": [{"image_id": 1, "question_id": 777, "question": "?"}]})");
  o.privacy.clear();
  o.only_annotated = false;
  o.questions = d / "q_bad.json";
  EXPECT_NE(error_of([&] { import_okvqa(o); }).find("777 has no annotation"), std::string::npos);
}

namespace {
// A val questions file and its annotations, written by the tests below.
void write_okvqa(const testing::ScratchDir& d, const std::string& answers_of_2) {
  testing::write_text(d / "q.json", R"({"data_subtype": "val2014", "questions": [
    {"image_id": 836, "question": "What sport?", "question_id": 1}, {"image_id": 9, "question": "Who?", "question_id": 2},
    {"image_id": 10, "question": "Where?", "question_id": 3}]})");
  testing::write_text(d / "a.json", R"({"annotations": [{"question_id": 1, "answers": [{"answer": "tennis"}, {"answer": ""}]},
    {"question_id": 2, "answers": )" + answers_of_2 + R"(}, {"question_id": 3, "answers": [{"answer": "home"}]}]})");
}
}  // namespace

TEST(ImportOkvqa, EmptyAnswersSkippedWithACountedWarningNamingTheQuestion) {
  testing::ScratchDir d;
  write_okvqa(d, R"([{"answer": ""}, {"answer": " "}])");
  ImportReport report;
  Manifest m = import_okvqa({d / "q.json", d / "a.json", d.path(), {}, false, ""}, &report);
  ASSERT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(by_id(m, "q1").task.vqa.answers, (std::vector<std::string>{"tennis"}));
  EXPECT_EQ(report.warnings("empty answer strings skipped"), 3u);
  EXPECT_EQ(report.dropped("questions without a non-empty answer"), 1u);
  auto lines = report.warning_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "3 empty answer strings skipped (e.g. question_id 1, question_id 2)");
  EXPECT_EQ(lines[1], "1 questions dropped for want of a non-empty answer (question_id 2)");
  EXPECT_EQ(report.summary_line(), "read 3 questions; kept 2 samples; dropped 1 questions without a non-empty answer");
}

TEST(ImportOkvqa, OnlyAnnotatedMatchingNothingIsAnError) {
  testing::ScratchDir d;
  write_okvqa(d, R"([{"answer": "me"}])");
  testing::write_text(d / "p.json", R"([{"image": "COCO_train2014_000000000836.jpg", "id": 1, "choice": "a17_color"}])");
  OkvqaImportOptions o{d / "q.json", d / "a.json", d.path(), d / "p.json", true, ""};
  std::string error = error_of([&] { import_okvqa(o); });
  EXPECT_NE(error.find("p.json: none of its 1 images is asked about in "), std::string::npos) << error;
  o.privacy.clear();
  EXPECT_THROW(import_okvqa(o), UsageError);
}

TEST(ImportOkvqa, PrivacyEntriesMatchingNoQuestionAreCounted) {
  testing::ScratchDir d;
  write_okvqa(d, R"([{"answer": "me"}])");
  testing::write_text(d / "p.json", R"([{"image": "COCO_val2014_000000000836.jpg", "id": 1, "choice": "a17_color"},
    {"image": "COCO_val2014_000000000777.jpg", "id": 2}, {"image": "COCO_val2014_000000000778.jpg", "id": 3}])");
  ImportReport report;
  Manifest m = import_okvqa({d / "q.json", d / "a.json", d.path(), d / "p.json", true, ""}, &report);
  ASSERT_EQ(m.samples.size(), 1u);
  EXPECT_EQ(report.warnings("privacy entries match no question's image"), 2u);
  EXPECT_EQ(report.dropped("questions on images without privacy annotations"), 2u);
}

TEST(ImportOkvqa, ErrorsNameTheFileAndQuestionId) {
  testing::ScratchDir d;
  testing::write_text(d / "q.json", R"({"questions": [{"image_id": 1, "question_id": 777, "question": 5}]})");
  testing::write_text(d / "a.json", R"({"annotations": [{"question_id": 777, "answers": [{"answer": "x"}]}]})");
  std::string error = error_of([&] { import_okvqa({d / "q.json", d / "a.json", d.path(), {}, false, ""}); });
  EXPECT_NE(error.find("q.json: question 0 (question_id 777): field 'question'"), std::string::npos) << error;
  testing::write_text(d / "a.json", R"({"annotations": [{"question_id": 777, "answers": []}, {"question_id": 777, "answers": []}]})");
  error = error_of([&] { import_okvqa({d / "q.json", d / "a.json", d.path(), {}, false, ""}); });
  EXPECT_NE(error.find("a.json: annotation 1 (question_id 777): question_id listed twice"), std::string::npos) << error;
}

TEST(ImportOkvqa, SharedValQuestionsWithThePrivacyFile) {
  fs::path questions = fs::path(SCRIM_SHARED_DIR) / "data/okvqa/OpenEnded_mscoco_val2014_questions.json";
  fs::path privacy = fs::path(SCRIM_SHARED_DIR) / "data/okvqa-privacy-annotations.json";
  if (!fs::exists(questions) || !fs::exists(privacy)) GTEST_SKIP() << "no ../shared/data/okvqa";
  // The published val annotations are not in ../shared: one answer per real question stands in.
  const nlohmann::json real = nlohmann::json::parse(testing::read_text(questions));
  nlohmann::json anns = nlohmann::json::array();
  for (const auto& q : real["questions"]) {
    nlohmann::json a;
    a["question_id"] = q["question_id"];
    a["answers"].push_back({{"answer", "x"}});
    anns.push_back(a);
  }
  testing::ScratchDir d;
  nlohmann::json annotations;
  annotations["annotations"] = anns;
  testing::write_text(d / "a.json", annotations.dump());
  ImportReport report;
  Manifest m = import_okvqa({questions, d / "a.json", d.path(), privacy, true, ""}, &report);
  EXPECT_EQ(m.samples.size(), 998u);
  EXPECT_EQ(report.read(), 5046u);
  EXPECT_EQ(report.warnings("privacy entries match no question's image"), 0u);
  EXPECT_EQ(report.warnings("images listed more than once in the privacy file (labels merged)"), 1u);
  std::set<std::string> images;
  for (const auto& s : m.samples) images.insert(s.media.images[0]);
  EXPECT_EQ(images.size(), 993u);
}

TEST(ImportOkvqa, ReadsTheSharedPrivacyAnnotations) {
  fs::path real = fs::path(SCRIM_SHARED_DIR) / "data/okvqa-privacy-annotations.json";
  if (!fs::exists(real)) GTEST_SKIP() << real << " not present";
  testing::ScratchDir d;
  // One question per annotated image id the file is known to hold, including the twice-listed id 148.
  testing::write_text(d / "q.json", R"({"data_subtype": "val2014", "questions": [
    {"image_id": 67422, "question": "q?", "question_id": 1}, {"image_id": 836, "question": "q?", "question_id": 2}]})");
  testing::write_text(d / "a.json", R"({"annotations": [{"question_id": 1, "answers": [{"answer": "a"}]},
    {"question_id": 2, "answers": [{"answer": "a"}]}]})");
  Manifest m = import_okvqa({d / "q.json", d / "a.json", d.path(), real, true, ""});
  ASSERT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(by_id(m, "q2").privacy.attributes.at("a17_color"), 1);
}

TEST(ImportReport, SummaryLineAndWarnings) {
  ImportReport r;
  r.set_read(10, "videos");
  r.set_kept(7, 3);
  EXPECT_EQ(r.summary_line(), "read 10 videos; kept 7 samples, 3 classes; dropped none");
  r.drop("tag 0", 2);
  r.drop("unlisted");
  EXPECT_EQ(r.summary_line(), "read 10 videos; kept 7 samples, 3 classes; dropped 2 tag 0, 1 unlisted");
  for (int i = 0; i < 7; ++i) r.warn("odd keys", std::string("k").append(std::to_string(i % 6)));
  ASSERT_EQ(r.warning_lines().size(), 1u);
  EXPECT_EQ(r.warning_lines()[0], "7 odd keys (e.g. k0, k1, k2)");
}

TEST(ImportFolder, FindsImagesAndVideosRecursively) {
  testing::ScratchDir d;
  testing::write_text(d / "in/a.JPG", "x");
  testing::write_text(d / "in/sub/b.png", "x");
  testing::write_text(d / "in/sub/c.mp4", "x");
  testing::write_text(d / "in/notes.txt", "x");
  ImportReport report;
  Manifest m = import_folder({d / "in", "test"}, &report);
  ASSERT_EQ(m.samples.size(), 3u);
  EXPECT_EQ(report.summary_line(), "read 4 files; kept 3 samples; dropped 1 files neither image nor video");
  EXPECT_EQ(by_id(m, "sub/c.mp4").media.video, "sub/c.mp4");
  EXPECT_EQ(by_id(m, "a.JPG").media.images[0], "a.JPG");
  fs::create_directories(d / "empty");
  EXPECT_NE(error_of([&] { import_folder({d / "empty", "test"}); }).find("no images or videos"), std::string::npos);
}

}  // namespace scrim
