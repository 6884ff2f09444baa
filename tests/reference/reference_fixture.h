// A tiny synthetic data set and reference MLLM, built once per test program:
// real components at test size (a few seconds on 2 cores).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>

#include <gtest/gtest.h>

#include "scrim/data/manifest.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/reference/reference_mllm.h"

namespace scrim::testing {

struct TinyReference {
  std::filesystem::path dir;
  std::filesystem::path model_file;
  std::shared_ptr<ReferenceMllm> model;
  ReferenceTrainReport report;

  static TinyReference& get() {
    static TinyReference* instance = [] {
      auto* t = new TinyReference;
      t->dir = std::filesystem::temp_directory_path() / ("scrim_tiny_reference_" + std::to_string(getpid()));
      std::filesystem::remove_all(t->dir);
      SynthOptions s;
      s.out = t->dir / "synth";
      s.train = 48;
      s.test = 8;
      s.seed = 11;
      generate_synth(s);
      ReferenceTrainOptions o;
      o.manifests = {t->dir / "synth/actions.jsonl", t->dir / "synth/vqa.jsonl"};
      o.out = t->dir / "tiny.pt";
      o.epochs = 2;
      o.batch_images = 16;
      o.width = 8;
      t->report = train_reference_mllm(o);
      t->model_file = o.out;
      t->model = ReferenceMllm::load(o.out);
      std::atexit([] { std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("scrim_tiny_reference_" + std::to_string(getpid()))); });
      return t;
    }();
    return *instance;
  }

  cv::Mat image(int i = 0) const {
    char name[64];
    std::snprintf(name, sizeof name, "synth/images/test/test-%06d.png", i);
    return read_image(dir / name);
  }
};

}  // namespace scrim::testing
