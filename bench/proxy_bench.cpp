// Added latency of the privacy proxy: the same chat-completions requests with
// one 1024x768 JPEG each, sent straight to the upstream (the reference server)
// and through `scrim serve`, at concurrency 1 and 8. Every request carries a
// distinct image, so the proxy's protection cache never helps. Prints p50/p99
// latency and requests/s for both paths, the added p50/p99, and the p50 of the
// proxy's own time per image (decode, protect, re-encode: its audit log's
// protect_ms), which tells the protector's part of the added latency from the rest.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <opencv2/imgproc.hpp>

#include "scrim/core/runtime.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/reference/reference_mllm.h"
#include "scrim/serve/oracle_server.h"
#include "scrim/serve/privacy_proxy.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Timing {
  double p50 = 0, p99 = 0, rps = 0;
};

Timing run(int port, const std::vector<std::string>& bodies, int concurrency) {
  std::vector<double> ms(bodies.size());
  std::atomic<size_t> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < concurrency; ++t)
    pool.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(120, 0);
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= bodies.size()) return;
        auto t0 = std::chrono::steady_clock::now();
        auto r = c.Post("/v1/chat/completions", bodies[i], "application/json");
        ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!r || r->status != 200) std::fprintf(stderr, "request %zu failed\n", i);
      }
    });
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], bodies.size() / secs};
}

// The median protect_ms of the images in the last `requests` entries of the audit log `file`.
double protect_p50(const fs::path& file, size_t requests) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<double> ms;
  for (size_t i = lines.size() - std::min(requests, lines.size()); i < lines.size(); ++i) {
    const auto entry = json::parse(lines[i]);
    for (const auto& image : entry["images"]) ms.push_back(image["protect_ms"].get<double>());
  }
  if (ms.empty()) return 0;
  std::nth_element(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  scrim::reexec_with_thread_environment(argv);  // the thread settings `scrim serve` runs with
  scrim::configure_threads();
  int requests = argc > 1 ? std::atoi(argv[1]) : 64;
  std::vector<std::string> protectors = {"blur:sigma=6", "pixelate:block=8"};
  for (int i = 2; i < argc; ++i) protectors.push_back(argv[i]);  // e.g. anonymizer:PATH once it exists

  fs::path dir = fs::temp_directory_path() / ("scrim_proxy_bench_" + std::to_string(getpid()));
  scrim::SynthOptions s;
  s.out = dir / "synth";
  s.train = 64;
  s.test = 8;
  scrim::generate_synth(s);
  scrim::ReferenceTrainOptions o;
  o.manifests = {s.out / "vqa.jsonl"};
  o.out = dir / "ref.pt";
  o.epochs = 1;
  scrim::train_reference_mllm(o);
  auto model = scrim::ReferenceMllm::load(o.out);

  // Distinct 1024x768 JPEG requests.
  cv::Mat scene = scrim::render_synth_sample(1, "test", 0, 768);
  std::vector<std::string> bodies;
  for (int i = 0; i < requests; ++i) {
    cv::Mat frame(768, 1024, CV_8UC3, cv::Scalar(90, 120, 150));
    scene.copyTo(frame(cv::Rect(128, 0, 768, 768)));
    frame.at<cv::Vec3b>(0, i % 1024) = cv::Vec3b(static_cast<uint8_t>(i), 0, 255);
    auto jpeg = scrim::encode_image(frame, scrim::ImageFormat::kJpeg, 90);
    json body = {{"model", "reference"},
                 {"messages", json::array({{{"role", "user"},
                                            {"content", json::array({{{"type", "text"}, {"text", "How many people are there?"}},
                                                                     {{"type", "image_url"}, {"image_url", {{"url", scrim::openai::data_url(jpeg, "image/jpeg")}}}}})}}})}};
    bodies.push_back(body.dump());
  }

  scrim::OracleServerOptions uo;
  uo.port = 0;
  scrim::OracleServer upstream(model, uo);
  upstream.bind();
  std::thread up([&] { upstream.serve(); });
  std::printf("proxy latency, %d requests with one distinct 1024x768 JPEG each (%zu KB), upstream = reference server\n", requests,
              bodies[0].size() / 1024);
  std::printf("%-22s %4s  %9s %9s %8s  %9s %9s %8s  %10s %10s  %10s\n", "protector", "conc", "direct50", "direct99", "direct/s", "proxy50",
              "proxy99", "proxy/s", "added p50", "added p99", "protect50");
  for (const auto& spec : protectors) {
    scrim::ProxyOptions po;
    po.audit_log = dir / ("audit-" + std::to_string(&spec - protectors.data()) + ".jsonl");
    po.port = 0;
    po.upstream = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/v1";
    po.protector = spec;
    po.cache_entries = 0;
    scrim::PrivacyProxy proxy(po);
    proxy.bind();
    std::thread pt([&] { proxy.serve(); });
    for (int conc : {1, 8}) {
      run(upstream.port(), std::vector<std::string>(bodies.begin(), bodies.begin() + 4), conc);  // warm-up
      Timing direct = run(upstream.port(), bodies, conc);
      Timing via = run(proxy.port(), bodies, conc);
      std::printf("%-22s %4d  %8.1fms %8.1fms %8.1f  %8.1fms %8.1fms %8.1f  %9.1fms %9.1fms  %9.1fms\n", spec.c_str(), conc, direct.p50,
                  direct.p99, direct.rps, via.p50, via.p99, via.rps, via.p50 - direct.p50, via.p99 - direct.p99,
                  protect_p50(po.audit_log, bodies.size()));
    }
    proxy.stop();
    pt.join();
  }
  upstream.stop();
  up.join();
  fs::remove_all(dir);
  return 0;
}
