// Importers against small fixtures written in each data set's published format,
// including malformed ones.
#include "scrim/data/importers.h"

#include <gtest/gtest.h>

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
                      R"({"id": "2017_1", "image_path": "images/train2017/2017_1.jpg", "labels": ["a17_color", "a4_gender", "a30_something"]})");
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
  EXPECT_EQ(a.privacy.attributes.count("a30_something"), 0u);
  EXPECT_EQ(by_id(m, "2017_2").split, "test");
  EXPECT_EQ(m.resolve(a.media.images[0]), fs::absolute(d / "images/train2017/2017_1.jpg"));

  Manifest all = import_vispr({d / "annotations", d.path(), {}, true});
  EXPECT_EQ(all.attributes, (std::vector<std::string>{"a17_color", "a30_something", "a4_gender"}));
  Manifest some = import_vispr({d / "annotations", d.path(), {"a30_something"}, false});
  EXPECT_EQ(by_id(some, "2017_1").privacy.attributes.at("a30_something"), 1);
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
  o.questions = d / "q_bad.json";
  EXPECT_NE(error_of([&] { import_okvqa(o); }).find("777 has no annotation"), std::string::npos);
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

TEST(ImportFolder, FindsImagesAndVideosRecursively) {
  testing::ScratchDir d;
  testing::write_text(d / "in/a.JPG", "x");
  testing::write_text(d / "in/sub/b.png", "x");
  testing::write_text(d / "in/sub/c.mp4", "x");
  testing::write_text(d / "in/notes.txt", "x");
  Manifest m = import_folder({d / "in", "test"});
  ASSERT_EQ(m.samples.size(), 3u);
  EXPECT_EQ(by_id(m, "sub/c.mp4").media.video, "sub/c.mp4");
  EXPECT_EQ(by_id(m, "a.JPG").media.images[0], "a.JPG");
  fs::create_directories(d / "empty");
  EXPECT_NE(error_of([&] { import_folder({d / "empty", "test"}); }).find("no images or videos"), std::string::npos);
}

}  // namespace scrim
