// The self-contained HTML report of `scrim eval`: a Pareto plot (inline SVG),
// the results table and example images (inline PNG data URLs). No scripts,
// no external assets: it opens anywhere, offline.
#include <cstdio>
#include <set>

#include "scrim/eval/evaluation.h"

using nlohmann::json;

namespace scrim {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(const json& v, const char* fmt = "%.3f") {
  if (!v.is_number() || v.get<double>() < 0) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v.get<double>());
  return buf;
}

std::string plot(const json& results) {
  const double W = 520, H = 400, L = 60, R = 20, T = 20, B = 50;
  auto px = [&](double x) { return L + x * (W - L - R); };
  auto py = [&](double y) { return H - B - y * (H - T - B); };
  std::set<std::string> front(results["pareto_front"].begin(), results["pareto_front"].end());
  char buf[512];
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='520' height='400' role='img' aria-label='utility against privacy'>";
  svg += "<rect x='0' y='0' width='520' height='400' fill='white'/>";
  for (int i = 0; i <= 5; ++i) {
    double v = i / 5.0;
    std::snprintf(buf, sizeof buf,
                  "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/><line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>"
                  "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%.1f</text><text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%.1f</text>",
                  px(v), py(0), px(v), py(1), px(0), py(v), px(1), py(v), px(v), H - B + 16, v, L - 6, py(v) + 4, v);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text x='%.1f' y='%.1f' font-size='13' text-anchor='middle'>utility (task score through the MLLM)</text>"
                "<text x='16' y='%.1f' font-size='13' text-anchor='middle' transform='rotate(-90 16 %.1f)'>privacy (1 − worst attacker cMAP)</text>",
                (L + W - R) / 2, H - 12, (T + H - B) / 2, (T + H - B) / 2);
  svg += buf;
  // The front as a staircase line, then every point.
  std::vector<std::pair<double, double>> f;
  for (const auto& r : results["protectors"])
    if (front.count(r["protector"])) f.emplace_back(r["utility"], r["privacy"]);
  std::sort(f.begin(), f.end());
  if (f.size() > 1) {
    std::string pts;
    for (const auto& [x, y] : f) {
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", px(x), py(y));
      pts += buf;
    }
    svg += "<polyline points='" + pts + "' fill='none' stroke='#22aa77' stroke-width='2' stroke-dasharray='5,3'/>";
  }
  // Points are numbered; the numbers lead the rows of the results table (long specs would overlap).
  int index = 0;
  for (const auto& r : results["protectors"]) {
    double x = r["utility"], y = r["privacy"];
    bool on_front = front.count(r["protector"]) > 0;
    std::snprintf(buf, sizeof buf,
                  "<g><title>%s</title><circle cx='%.1f' cy='%.1f' r='5' fill='%s'/></g><text x='%.1f' y='%.1f' font-size='11'>%d</text>",
                  esc(r["protector"].get<std::string>()).c_str(), px(x), py(y), on_front ? "#22aa77" : "#cc4444", px(x) + 6,
                  py(y) - 6 - 9 * (index % 3), ++index);
    svg += buf;
  }
  return svg + "</svg>";
}

}  // namespace

std::string render_html_report(const json& results) {
  std::string h = "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>scrim evaluation</title><style>"
                  "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}"
                  "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
                  "th{background:#f4f4f4}td:nth-child(2),th:nth-child(2){text-align:left;font-family:monospace}"
                  ".ex img{width:112px;height:112px;image-rendering:pixelated;margin:2px;border:1px solid #ddd}.note{color:#666;font-size:13px}"
                  "</style></head><body><h1>scrim evaluation</h1>";
  h += "<p>Data <code>" + esc(results["manifest"]) + "</code> (" + std::to_string(results["train_samples"].get<int>()) + " train, " +
       std::to_string(results["test_samples"].get<int>()) + " test samples); MLLM <code>" + esc(results["mllm"]) +
       "</code>; attackers retrained on each protected training split: ";
  for (const auto& a : results["attackers"]) h += "<code>" + esc(a) + "</code> ";
  const int seeds = results.value("attacker_seeds", 1);
  h += seeds > 1 ? "(worst case per seed; the mean over " + std::to_string(seeds) + " seeds reported, ± its standard deviation).</p>"
                 : std::string("(worst case reported).</p>");
  h += "<h2>Trade-off</h2>" + plot(results);
  h += "<p class='note'>Green: the non-dominated front. Hypervolume against (0, 0): " + num(results["hypervolume"]) + ".</p>";
  h += "<h2>Results</h2><table><tr><th>#</th><th>protector</th><th>utility</th><th>p(true answer)</th><th>attacker cMAP</th><th>attacker F1</th>"
       "<th>identity top-1</th><th>MLLM leakage</th><th>OCR char recall</th><th>face detector hits</th><th>queries</th><th>cache hits</th><th>seconds</th></tr>";
  int row = 0;
  for (const auto& r : results["protectors"]) {
    h += "<tr><td>" + std::to_string(++row) + "</td><td>" + esc(r["protector"]) + "</td><td>" + num(r["utility"]) + "</td><td>" + num(r["utility_probability"]) + "</td><td>" +
         num(r["cmap"]) + (r.contains("cmap_sd") ? " ± " + num(r["cmap_sd"]) : "") + "</td><td>" + num(r["mean_f1"]) + "</td><td>" + num(r["identity_top1"]) + "</td><td>" +
         num(r.value("mllm_leakage", json(-1))) + "</td><td>" + num(r.value("ocr_character_recall", json(-1))) + "</td><td>" +
         num(r.value("face_detector_hit_rate", json(-1))) + "</td><td>" + std::to_string(r["queries"].get<int64_t>()) + "</td><td>" +
         std::to_string(r["cache_hits"].get<int64_t>()) + "</td><td>" + num(r["seconds"], "%.0f") + "</td></tr>";
  }
  h += "</table><p class='note'>Utility: top-1 accuracy (action) or VQA accuracy, on the protected test split. Lower is better for every "
       "privacy column. cMAP leaves out attributes with no positive test label.</p><h2>Examples (raw, protected)</h2>";
  for (const auto& r : results["protectors"]) {
    h += "<h3><code>" + esc(r["protector"]) + "</code></h3><div class='ex'>";
    for (const auto& e : r["examples"])
      h += "<img alt='raw' src='" + e["raw"].get<std::string>() + "'><img alt='protected' src='" + e["protected"].get<std::string>() + "'> ";
    h += "</div>";
  }
  return h + "</body></html>\n";
}

}  // namespace scrim
