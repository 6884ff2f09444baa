#include "scrim/reference/reference_mllm.h"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "reference/reference_vqa_net.h"
#include "reference/reference_augment.h"
#include "reference/reference_whitebox.h"
#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/core/sha256.h"
#include "scrim/data/manifest.h"
#include "scrim/data/sample_media.h"
#include "scrim/media/tensor_image.h"
#include "scrim/oracle/oracle_error.h"
#include "scrim/task/answer_normalization.h"
#include "scrim/task/scorer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {

namespace {

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (unsigned char c : text) {
    if (std::isalnum(c)) w += static_cast<char>(std::tolower(c));
    else if (!w.empty()) out.push_back(std::move(w)), w.clear();
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

// Question types the reference model is not trained on: random plate strings
// are not a closed vocabulary; OCR attackers cover them.
bool trained_type(const std::string& type) { return type != "plate_text"; }

struct QuestionItem {
  int group;  // index of its image group
  std::string prompt;
  std::string answer;  // normalised majority answer
  std::string type;
  std::optional<Region> evidence;  // where the answer can be read, when the manifest says
  std::string subgroup;            // "a4_gender=0, a9_face_complete=1": the sample's values of the attributes asked for
};

struct LoadedData {
  std::vector<torch::Tensor> groups;  // each [T, 3, S, S] uint8
  std::vector<QuestionItem> questions;
};

std::string privacy_prompt(const VqaItem& q) { return q.question + " Answer with a single word or number."; }

// Every training prompt ends in an answer instruction (the scorers'
// templates). A bare question gets the VQA one, as a chat template would, so
// `scrim ask --prompt "What is the person doing?"` is read as in training
// (without it the action question drops from 99.5% to 60%: README). The model
// answers with one word whatever the instruction asks.
std::string as_trained(const std::string& prompt) {
  std::string lower;
  for (unsigned char c : prompt) lower += static_cast<char>(std::tolower(c));
  if (lower.find("answer with") != std::string::npos) return prompt;
  return prompt + " Answer with a single word or number.";
}

// The sample's values of the privacy attributes in `by`, "?" where it has none.
std::string subgroup_of(const Sample& s, const std::vector<std::string>& by) {
  std::string out;
  for (const auto& a : by) {
    auto it = s.privacy.attributes.find(a);
    out += (out.empty() ? "" : ", ") + a + "=" + (it == s.privacy.attributes.end() ? "?" : std::to_string(it->second));
  }
  return out;
}

LoadedData load_split(const std::vector<fs::path>& manifests, const std::string& split, int size, int frames,
                      int max_images, const std::vector<std::string>& by = {}) {
  LoadedData d;
  std::map<std::string, int> group_of;  // media key -> group
  for (const auto& path : manifests) {
    Manifest m = read_manifest(path);
    for (const Sample* s : m.split(split)) {
      // Absolute, normalised paths: the same picture named through two
      // manifests (one relative, one absolute) is one group, loaded once.
      auto path_of = [&](const std::string& stored) { return fs::absolute(m.resolve(stored)).lexically_normal().string(); };
      std::string key = path_of(s->media.is_video() ? s->media.video : s->media.images[0]);
      for (size_t i = 1; i < s->media.images.size(); ++i) key.append("|").append(path_of(s->media.images[i]));
      auto it = group_of.find(key);
      if (it == group_of.end()) {
        if (max_images > 0 && static_cast<int>(d.groups.size()) >= max_images) continue;
        auto batch = images_to_batch(load_sample_frames(m, *s, frames), size).mul(255.0).round().to(torch::kUInt8);
        it = group_of.emplace(key, static_cast<int>(d.groups.size())).first;
        d.groups.push_back(batch);
      }
      int g = it->second;
      if (s->task.kind != Task::Kind::kNone) {
        auto scorer = scorer_for(s->task);
        std::string answer = s->task.kind == Task::Kind::kAction ? normalize_vqa_answer(s->task.label)
                                                                 : majority_answer(s->task.vqa.answers);
        std::string type = s->task.kind == Task::Kind::kAction ? "action_label" : s->task.vqa.question_type;
        if (type.empty()) type = "vqa";
        std::optional<Region> evidence;
        if (s->task.kind == Task::Kind::kVqa) evidence = s->task.vqa.evidence;
        d.questions.push_back({g, scorer->prompt(*s, m), answer, type, evidence, subgroup_of(*s, by)});
      }
      for (const auto& q : s->privacy.questions)
        if (trained_type(q.question_type))
          d.questions.push_back({g, privacy_prompt(q), majority_answer(q.answers), "privacy:" + q.question_type, q.evidence,
                                 subgroup_of(*s, by)});
    }
  }
  return d;
}

// The cells of an h x w feature map whose centres lie in `r` widened by half a
// cell on each side, so that even a small region covers at least one cell.
std::vector<float> evidence_cells(const Region& r, int64_t h, int64_t w) {
  std::vector<float> cells(static_cast<size_t>(h * w), 0.0f);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double cx = (j + 0.5) / w, cy = (i + 0.5) / h;
      if (cx >= r.x - 0.5 / w && cx <= r.x + r.w + 0.5 / w && cy >= r.y - 0.5 / h && cy <= r.y + r.h + 0.5 / h)
        cells[static_cast<size_t>(i * w + j)] = 1.0f;
    }
  return cells;
}

}  // namespace

struct ReferenceMllm::Impl {
  nets::ReferenceVqaNet net{nullptr};
  std::map<std::string, int64_t> vocab;  // word -> index (0 padding, 1 unknown)
  std::vector<std::string> answers;
  std::string id;
  std::mutex mutex;

  torch::Tensor tokens_for(const std::vector<std::string>& prompts) const {
    size_t len = 1;
    std::vector<std::vector<int64_t>> rows;
    for (const auto& p : prompts) {
      std::vector<int64_t> row;
      for (const auto& w : tokenize(p)) {
        auto it = vocab.find(w);
        row.push_back(it == vocab.end() ? 1 : it->second);
      }
      len = std::max(len, row.size());
      rows.push_back(std::move(row));
    }
    auto t = torch::zeros({static_cast<int64_t>(prompts.size()), static_cast<int64_t>(len)}, torch::kLong);
    // Right padding for a packed question encoder; left padding for the first
    // models, whose GRU reads the padding first and the words last.
    bool right = net->options().packed_question;
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t j = 0; j < rows[i].size(); ++j)
        t[i][static_cast<int64_t>(right ? j : len - rows[i].size() + j)] = rows[i][j];
    return t;
  }

  json config() const {
    const auto& o = net->options();
    return {{"format", "scrim-reference-mllm-1"}, {"vocab", vocab}, {"answers", answers},
            {"width", o.width}, {"embed", o.embed}, {"glimpses", o.glimpses}, {"input_size", o.input_size},
            {"film_blocks", o.film_blocks}, {"word_path", o.word_path}, {"packed_question", o.packed_question}, {"zoom", o.zoom}};
  }

  void save(const fs::path& path) {
    torch::serialize::OutputArchive archive;
    net->save(archive);
    archive.write("scrim_config", c10::IValue(config().dump()));
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    TempFileGuard tmp(temp_path_for(path));
    archive.save_to(tmp.path().string());
    tmp.commit(path);
  }
};

ReferenceMllm::ReferenceMllm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReferenceMllm::~ReferenceMllm() = default;

namespace {

// A model file's vocabulary, answers and network (in eval mode); no id yet.
std::unique_ptr<ReferenceMllm::Impl> read_model_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error(path.string() + ": no such model file");
  auto impl = std::make_unique<ReferenceMllm::Impl>();
  torch::serialize::InputArchive archive;
  json cfg;
  try {
    archive.load_from(path.string());
    c10::IValue v;
    if (!archive.try_read("scrim_config", v)) throw Error(path.string() + ": not a scrim reference model (no config)");
    cfg = json::parse(v.toStringRef());
  } catch (const c10::Error& e) {
    throw Error(path.string() + ": not a readable model file (" + one_line(e.what_without_backtrace()) + ")");
  }
  if (cfg.value("format", "") != "scrim-reference-mllm-1") throw Error(path.string() + ": unknown model format");
  impl->vocab = cfg["vocab"].get<std::map<std::string, int64_t>>();
  impl->answers = cfg["answers"].get<std::vector<std::string>>();
  nets::ReferenceVqaNetOptions o;
  o.vocab_size = static_cast<int64_t>(impl->vocab.size()) + 2;
  o.answers = static_cast<int64_t>(impl->answers.size());
  o.width = cfg["width"];
  o.embed = cfg["embed"];
  o.glimpses = cfg["glimpses"];
  o.input_size = cfg["input_size"];
  o.film_blocks = cfg.value("film_blocks", 0);  // models written before the blocks have none
  o.word_path = cfg.value("word_path", false);
  o.packed_question = cfg.value("packed_question", false);
  o.zoom = cfg.value("zoom", 0);
  impl->net = nets::ReferenceVqaNet(o);
  try {
    impl->net->load(archive);
  } catch (const c10::Error& e) {
    throw Error(path.string() + ": model weights do not match its configuration");
  }
  impl->net->eval();
  return impl;
}

}  // namespace

std::shared_ptr<ReferenceMllm> ReferenceMllm::load(const fs::path& path) {
  auto impl = read_model_file(path);
  // The weights' hash is part of the id, so caches never mix two trainings of one file name.
  impl->id = "reference:" + path.stem().string() + "@" + sha256_hex(read_file_text(path)).substr(0, 12);
  return std::shared_ptr<ReferenceMllm>(new ReferenceMllm(std::move(impl)));
}

std::string ReferenceMllm::model_id() const { return impl_->id; }

OracleReply ReferenceMllm::query(const OracleRequest& request) {
  if (request.images.empty()) throw OracleError(OracleError::Kind::kInvalidRequest, "reference MLLM: the request has no image");
  auto start = std::chrono::steady_clock::now();
  OracleReply reply;
  std::lock_guard lock(impl_->mutex);
  torch::NoGradGuard no_grad;
  auto& net = impl_->net;
  auto images = images_to_batch(request.images, static_cast<int>(net->options().input_size));
  std::vector<int64_t> all(request.images.size());
  std::iota(all.begin(), all.end(), 0);
  auto logits = net->forward(images, impl_->tokens_for({as_trained(request.prompt)}), {all});
  auto logp = torch::log_softmax(logits[0], 0);
  int k = std::clamp(request.options.top_logprobs, 1, static_cast<int>(impl_->answers.size()));
  auto [values, indices] = logp.topk(k);
  reply.text = impl_->answers[indices[0].item<int64_t>()];
  if (request.options.top_logprobs > 0) {
    TokenLogprob tok{reply.text, values[0].item<double>(), {}};
    for (int i = 0; i < k; ++i) tok.top.push_back({impl_->answers[indices[i].item<int64_t>()], values[i].item<double>()});
    reply.logprobs.push_back(std::move(tok));
  }
  reply.usage.prompt_tokens = static_cast<int64_t>(tokenize(request.prompt).size()) + 64 * static_cast<int64_t>(request.images.size());
  reply.usage.completion_tokens = 1;
  reply.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return reply;
}

torch::Tensor reference_answer_loss(ReferenceMllm& model, const torch::Tensor& images, const std::vector<std::string>& prompts,
                                    const std::vector<std::string>& answers, const std::vector<std::vector<int64_t>>& groups) {
  return reference_answer_losses(model, images, prompts, answers, groups).cross_entropy;
}

ReferenceAnswerLosses reference_answer_losses(ReferenceMllm& model, const torch::Tensor& images, const std::vector<std::string>& prompts,
                                              const std::vector<std::string>& answers, const std::vector<std::vector<int64_t>>& groups) {
  auto& impl = model.impl();
  std::vector<int64_t> targets;
  for (const auto& a : answers) {
    auto it = std::find(impl.answers.begin(), impl.answers.end(), a);
    if (it == impl.answers.end()) throw Error("reference MLLM: '" + a + "' is not one of its answers");
    targets.push_back(it - impl.answers.begin());
  }
  std::lock_guard lock(impl.mutex);
  auto size = impl.net->options().input_size;
  auto x = images;
  if (x.size(2) != size || x.size(3) != size) {
    namespace F = torch::nn::functional;
    x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size}).mode(torch::kBilinear).align_corners(false));
  }
  auto logits = impl.net->forward(x, impl.tokens_for(prompts), groups);
  auto target = torch::tensor(targets, torch::kLong);
  auto logp = torch::log_softmax(logits, 1);
  auto right = logp.gather(1, target.unsqueeze(1)).squeeze(1);
  auto others = logp.scatter(1, target.unsqueeze(1), -std::numeric_limits<float>::infinity());
  return {-right, std::get<0>(others.max(1)) - right};
}

torch::nn::Module& reference_network(ReferenceMllm& model) { return *model.impl().net; }

std::vector<ReferenceTypeAccuracy> ReferenceMllm::evaluate(const std::vector<fs::path>& manifests, const std::string& split,
                                                           int frames, const std::vector<std::string>& by) {
  auto& net = impl_->net;
  LoadedData data = load_split(manifests, split, static_cast<int>(net->options().input_size), frames, 0, by);
  // Keyed by (type, subgroup); subgroup "" is the whole type.
  using Key = std::pair<std::string, std::string>;
  std::map<Key, std::pair<int, int>> per_type;           // -> (correct, total)
  std::map<Key, std::pair<double, int>> evidence_mass;  // -> (sum of attention on evidence, questions)
  std::lock_guard lock(impl_->mutex);
  torch::NoGradGuard no_grad;
  net->eval();
  // Evaluate in chunks of image groups, all their questions at once.
  std::vector<std::vector<int>> questions_of(data.groups.size());
  for (size_t i = 0; i < data.questions.size(); ++i) questions_of[data.questions[i].group].push_back(static_cast<int>(i));
  const size_t chunk = 64;
  for (size_t g0 = 0; g0 < data.groups.size(); g0 += chunk) {
    std::vector<torch::Tensor> imgs;
    std::vector<std::vector<int64_t>> groups_of_q;
    std::vector<std::string> prompts;
    std::vector<int> qids;
    int64_t offset = 0;
    for (size_t g = g0; g < std::min(data.groups.size(), g0 + chunk); ++g) {
      imgs.push_back(data.groups[g]);
      std::vector<int64_t> frames_idx(data.groups[g].size(0));
      std::iota(frames_idx.begin(), frames_idx.end(), offset);
      offset += data.groups[g].size(0);
      for (int q : questions_of[g]) {
        groups_of_q.push_back(frames_idx);
        prompts.push_back(data.questions[q].prompt);
        qids.push_back(q);
      }
    }
    if (qids.empty()) continue;
    auto x = torch::cat(imgs).to(torch::kFloat32).div(255.0);
    torch::Tensor attention;  // [P, G, h*w]
    auto pred = net->forward(x, impl_->tokens_for(prompts), groups_of_q, &attention).argmax(1);
    auto first_glimpse = attention.select(1, 0).contiguous();
    int64_t h = net->attention_side(), w = h, pair = 0;
    for (size_t i = 0; i < qids.size(); ++i) {
      const auto& q = data.questions[qids[i]];
      std::vector<Key> keys = {{q.type, ""}};
      if (!q.subgroup.empty()) keys.push_back({q.type, q.subgroup});
      bool right = impl_->answers[pred[static_cast<int64_t>(i)].item<int64_t>()] == q.answer;
      auto frames_of_q = static_cast<int64_t>(groups_of_q[i].size());
      double mass = -1;
      if (q.evidence) {
        auto cells = evidence_cells(*q.evidence, h, w);
        auto mask = torch::from_blob(cells.data(), {1, h * w}, torch::kFloat32);
        mass = (first_glimpse.slice(0, pair, pair + frames_of_q) * mask).sum(1).mean().item<double>();
      }
      for (const auto& key : keys) {
        auto& [correct, total] = per_type[key];
        ++total;
        correct += right;
        if (mass >= 0) {
          auto& [sum, n] = evidence_mass[key];
          sum += mass;
          ++n;
        }
      }
      pair += frames_of_q;
    }
  }
  std::vector<ReferenceTypeAccuracy> out;
  for (const auto& [key, ct] : per_type) {
    ReferenceTypeAccuracy a;
    a.question_type = key.first;
    a.questions = ct.second;
    a.accuracy = ct.second ? static_cast<double>(ct.first) / ct.second : 0.0;
    a.subgroup = key.second;
    if (auto it = evidence_mass.find(key); it != evidence_mass.end()) a.evidence_attention = it->second.first / it->second.second;
    out.push_back(a);
  }
  return out;
}

ReferenceTrainReport train_reference_mllm(const ReferenceTrainOptions& o, const std::function<void(int, int, double)>& progress) {
  if (o.manifests.empty()) throw UsageError("reference train: give at least one --data manifest");
  if (o.out.empty()) throw UsageError("reference train: --out is required");
  if (o.epochs < 1 || o.batch_images < 1) throw UsageError("reference train: --epochs and --batch must be positive");
  if (o.film_blocks < 0 || o.film_blocks > 8) throw UsageError("reference train: --film-blocks must be in 0..8");
  if (o.zoom != 0 && (o.zoom < 8 || o.zoom > 112)) throw UsageError("reference train: --zoom must be 0 (off) or 8..112 pixels");
  if (o.width < 2) throw UsageError("reference train: --width must be at least 2");
  if (!(o.grounding >= 0)) throw UsageError("reference train: --grounding must be 0 (off) or positive");
  if (o.shift < 0 || o.shift > 28) throw UsageError("reference train: --shift must be in 0..28 pixels");
  auto start = std::chrono::steady_clock::now();
  torch::manual_seed(o.seed);
  std::mt19937_64 rng(o.seed);
  const int size = 112;
  LoadedData train = load_split(o.manifests, "train", size, o.frames, o.max_images);
  if (train.questions.empty()) throw Error("reference train: the manifests have no training questions");

  std::unique_ptr<ReferenceMllm::Impl> impl;
  std::map<std::string, int64_t> answer_index;
  if (!o.init.empty()) {
    // Training continues from a model: its architecture, vocabulary and answers.
    impl = read_model_file(o.init);
    for (size_t i = 0; i < impl->answers.size(); ++i) answer_index[impl->answers[i]] = static_cast<int64_t>(i);
    for (const auto& q : train.questions)
      if (!answer_index.count(q.answer))
        throw UsageError("reference train: --init " + o.init.string() + " cannot answer '" + q.answer + "', which the training data asks for");
  } else {
    impl = std::make_unique<ReferenceMllm::Impl>();
    std::map<std::string, int> answer_counts;
    for (const auto& q : train.questions) {
      for (const auto& w : tokenize(q.prompt)) impl->vocab.emplace(w, 0);
      ++answer_counts[q.answer];
    }
    int64_t next = 2;
    for (auto& [w, idx] : impl->vocab) idx = next++;
    for (const auto& [a, n] : answer_counts) {
      answer_index[a] = static_cast<int64_t>(impl->answers.size());
      impl->answers.push_back(a);
    }
    nets::ReferenceVqaNetOptions no;
    no.vocab_size = next;
    no.answers = static_cast<int64_t>(impl->answers.size());
    no.width = o.width;
    no.input_size = size;
    no.film_blocks = o.film_blocks;
    no.word_path = o.word_path;
    no.packed_question = true;
    no.zoom = o.zoom;
    impl->net = nets::ReferenceVqaNet(no);
  }
  auto& net = impl->net;

  std::vector<std::vector<int>> questions_of(train.groups.size());
  for (size_t i = 0; i < train.questions.size(); ++i) questions_of[train.questions[i].group].push_back(static_cast<int>(i));
  std::vector<int> order(train.groups.size());
  std::iota(order.begin(), order.end(), 0);
  int steps_per_epoch = static_cast<int>((order.size() + o.batch_images - 1) / o.batch_images);
  int total_steps = steps_per_epoch * o.epochs;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.learning_rate).weight_decay(1e-5));
  int step = 0;
  net->train();
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int s = 0; s < steps_per_epoch; ++s, ++step) {
      // Cosine learning-rate decay over the whole run.
      double lr = o.learning_rate * 0.5 * (1 + std::cos(M_PI * step / std::max(1, total_steps)));
      for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      std::vector<torch::Tensor> imgs;
      std::vector<std::vector<int64_t>> groups_of_q;
      std::vector<std::string> prompts;
      std::vector<int64_t> targets;
      std::vector<std::optional<Region>> evidence;
      int64_t offset = 0;
      for (int b = s * o.batch_images; b < std::min<int>(order.size(), (s + 1) * o.batch_images); ++b) {
        int g = order[b];
        auto x = train.groups[g].to(torch::kFloat32).div(255.0);
        if (o.augment) x = augment(x, rng);
        int64_t dx = 0, dy = 0;
        if (o.shift > 0) {
          std::uniform_int_distribution<int64_t> d(-o.shift, o.shift);
          dx = d(rng), dy = d(rng);
          x = translate(x, dx, dy);
        }
        imgs.push_back(x);
        std::vector<int64_t> idx(x.size(0));
        std::iota(idx.begin(), idx.end(), offset);
        offset += x.size(0);
        for (int q : questions_of[g]) {
          groups_of_q.push_back(idx);
          prompts.push_back(train.questions[q].prompt);
          targets.push_back(answer_index[train.questions[q].answer]);
          std::optional<Region> r = train.questions[q].evidence;
          if (r) r->x += static_cast<double>(dx) / x.size(3), r->y += static_cast<double>(dy) / x.size(2);
          evidence.push_back(r);
        }
      }
      if (targets.empty()) continue;
      torch::Tensor attention;
      auto logits = net->forward(torch::cat(imgs), impl->tokens_for(prompts), groups_of_q, &attention);
      auto loss = nets::answer_loss(logits, torch::tensor(targets, torch::kLong), o.focal_gamma);
      if (o.grounding > 0) {
        // One evidence row per (question, frame) pair, in the attention's order.
        int64_t h = net->attention_side(), w = h;
        std::vector<float> rows;
        for (size_t i = 0; i < evidence.size(); ++i) {
          auto cells = evidence[i] ? evidence_cells(*evidence[i], h, w) : std::vector<float>(static_cast<size_t>(h * w), 0.0f);
          for (size_t f = 0; f < groups_of_q[i].size(); ++f) rows.insert(rows.end(), cells.begin(), cells.end());
        }
        auto cells = torch::from_blob(rows.data(), {attention.size(0), h * w}, torch::kFloat32).clone();
        loss = loss + o.grounding * nets::grounding_loss(attention, cells);
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
      if (progress) progress(step + 1, total_steps, loss.item<double>());
    }
  }
  net->eval();
  impl->id = "reference:" + o.out.stem().string();
  impl->save(o.out);

  ReferenceTrainReport report;
  report.train_images = static_cast<int>(train.groups.size());
  report.train_questions = static_cast<int>(train.questions.size());
  report.grounded_questions = static_cast<int>(
      std::count_if(train.questions.begin(), train.questions.end(), [](const QuestionItem& q) { return q.evidence.has_value(); }));
  report.answers = static_cast<int>(impl->answers.size());
  auto model = ReferenceMllm::load(o.out);
  report.test_accuracy = model->evaluate(o.manifests, "test", o.frames);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace scrim
