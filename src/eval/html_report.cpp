// The self-contained HTML report of `scrim eval`: a Pareto plot (inline SVG),
// the results table and example images (inline PNG data URLs). No scripts,
// no external assets: it opens anywhere, offline.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "scrim/eval/evaluation.h"

using nlohmann::json;

namespace scrim {
namespace {

// results[key] without the undefined behaviour of operator[] on a const json that
// lacks the key (AddressSanitizer caught it reading past the object): a missing
// field reads as null, which num() shows as "—" and get<>() refuses with an exception.
const json& field(const json& j, const char* key) {
  static const json missing;
  if (!j.is_object()) return missing;
  auto it = j.find(key);
  return it == j.end() ? missing : *it;
}

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

// An axis range that holds every value with a margin, and a tick step that
// gives at most 10 ticks: the protectors sit within a few hundredths of each other,
// so a fixed 0-1 square would crowd them into one corner.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
};

Axis fit_axis(double lo, double hi) {
  double span = std::max(hi - lo, 0.02);
  lo = std::max(0.0, lo - 0.08 * span);
  hi = std::min(1.0, hi + 0.08 * span);
  Axis a;
  for (double step : {0.005, 0.01, 0.02, 0.05, 0.1, 0.2}) {
    a.step = step;
    if ((hi - lo) / step <= 10) break;
  }
  a.lo = std::floor(lo / a.step + 1e-9) * a.step;
  a.hi = std::ceil(hi / a.step - 1e-9) * a.step;
  return a;
}

std::string short_name(const std::string& spec) {
  // anonymizer:runs/x/anonymizer.pt is named by its run folder.
  std::string s = spec;
  if (s.rfind("anonymizer:", 0) == 0) {
    auto slash = s.find_last_of('/');
    if (slash != std::string::npos && slash > 11) {
      auto before = s.find_last_of('/', slash - 1);
      s = "anonymizer:" + s.substr(before == std::string::npos ? 11 : before + 1, slash - (before == std::string::npos ? 11 : before + 1));
    }
  }
  return s.size() > 28 ? s.substr(0, 27) + "…" : s;
}

std::string plot(const json& results) {
  const double W = 600, H = 440, L = 60, R = 20, T = 20, B = 50;
  std::set<std::string> front(field(results, "pareto_front").begin(), field(results, "pareto_front").end());
  const bool has_floor = results.contains("cmap_floor"), has_raw = results.contains("cmap_raw");
  const double floor_y = has_floor ? 1.0 - field(results, "cmap_floor").get<double>() : 0.0;
  double x_lo = 1, x_hi = 0, y_lo = 1, y_hi = 0;
  for (const auto& r : field(results, "protectors")) {
    double x = field(r, "utility"), y = field(r, "privacy"), sd = r.value("cmap_sd", 0.0);
    x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    y_lo = std::min(y_lo, y - sd), y_hi = std::max(y_hi, y + sd);
  }
  if (has_floor) y_lo = std::min(y_lo, floor_y), y_hi = std::max(y_hi, floor_y);
  const Axis ax = fit_axis(x_lo, x_hi), ay = fit_axis(y_lo, y_hi);
  auto px = [&](double x) { return L + (x - ax.lo) / (ax.hi - ax.lo) * (W - L - R); };
  auto py = [&](double y) { return H - B - (y - ay.lo) / (ay.hi - ay.lo) * (H - T - B); };
  char buf[768];
  std::snprintf(buf, sizeof buf, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' role='img' aria-label='utility against privacy'>"
                "<rect x='0' y='0' width='%.0f' height='%.0f' fill='white'/>", W, H, W, H);
  std::string svg = buf;
  for (double v = ax.lo; v <= ax.hi + 1e-9; v += ax.step) {
    std::snprintf(buf, sizeof buf, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/><text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%g</text>",
                  px(v), py(ay.lo), px(v), py(ay.hi), px(v), H - B + 16, std::round(v * 1000) / 1000);
    svg += buf;
  }
  for (double v = ay.lo; v <= ay.hi + 1e-9; v += ay.step) {
    std::snprintf(buf, sizeof buf, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/><text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%g</text>",
                  px(ax.lo), py(v), px(ax.hi), py(v), L - 6, py(v) + 4, std::round(v * 1000) / 1000);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text x='%.1f' y='%.1f' font-size='13' text-anchor='middle'>utility (task score through the MLLM)</text>"
                "<text x='16' y='%.1f' font-size='13' text-anchor='middle' transform='rotate(-90 16 %.1f)'>privacy (1 − worst attacker cMAP)</text>",
                (L + W - R) / 2, H - 12, (T + H - B) / 2, (T + H - B) / 2);
  svg += buf;
  // Reference lines: the floor (an attacker that reads nothing) and raw pictures.
  auto level = [&](double y, const char* colour, const std::string& label) {
    std::snprintf(buf, sizeof buf,
                  "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='1.5' stroke-dasharray='6,4'/>"
                  "<text x='%.1f' y='%.1f' font-size='11' fill='%s'>%s</text>",
                  px(ax.lo), py(y), px(ax.hi), py(y), colour, px(ax.lo) + 4, py(y) - 4, colour, esc(label).c_str());
    svg += buf;
  };
  if (has_floor) level(floor_y, "#2255cc", "floor: reads nothing (cMAP " + num(field(results, "cmap_floor")) + ")");
  if (has_raw) level(1.0 - field(results, "cmap_raw").get<double>(), "#888888", "raw (cMAP " + num(field(results, "cmap_raw")) + ")");
  // The front as a staircase line, then every point with its attacker-seed spread and its name.
  std::vector<std::pair<double, double>> f;
  for (const auto& r : field(results, "protectors"))
    if (front.count(field(r, "protector"))) f.emplace_back(field(r, "utility"), field(r, "privacy"));
  std::sort(f.begin(), f.end());
  if (f.size() > 1) {
    std::string pts;
    for (const auto& [x, y] : f) {
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", px(x), py(y));
      pts += buf;
    }
    svg += "<polyline points='" + pts + "' fill='none' stroke='#22aa77' stroke-width='2' stroke-dasharray='5,3'/>";
  }
  int index = 0;
  for (const auto& r : field(results, "protectors")) {
    double x = field(r, "utility"), y = field(r, "privacy"), sd = r.value("cmap_sd", 0.0);
    const std::string spec = field(r, "protector");
    bool on_front = front.count(spec) > 0;
    if (sd > 0) {
      std::snprintf(buf, sizeof buf, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999'/>", px(x), py(y - sd), px(x), py(y + sd));
      svg += buf;
    }
    // Names left of the points in the right half, so they stay inside the picture.
    const bool right_half = px(x) > (L + W - R) / 2;
    std::snprintf(buf, sizeof buf,
                  "<g><title>%s</title><circle cx='%.1f' cy='%.1f' r='5' fill='%s'/></g>"
                  "<text x='%.1f' y='%.1f' font-size='11' text-anchor='%s'>%d %s</text>",
                  esc(spec).c_str(), px(x), py(y), on_front ? "#22aa77" : "#cc4444", px(x) + (right_half ? -7 : 7),
                  py(y) + 4 - 11 * (index % 2), right_half ? "end" : "start", index + 1, esc(short_name(spec)).c_str());
    svg += buf;
    ++index;
  }
  return svg + "</svg>";
}

// Where the leakage is: each attribute's AP under each protector (per seed the
// worst architecture, then the mean over seeds) beside its floor, the prevalence.
std::string per_attribute_table(const json& results) {
  if (!results.contains("attribute_prevalence")) return "";
  const json& prevalence = field(results, "attribute_prevalence");
  std::string h = "<h2>Per attribute: attacker AP (floor = prevalence)</h2><table><tr><th>#</th><th>protector</th>";
  for (const auto& [name, p] : prevalence.items()) h += "<th>" + esc(name) + " (" + num(p, "%.2f") + ")</th>";
  h += "</tr>";
  int row = 0;
  for (const auto& r : field(results, "protectors")) {
    h += "<tr><td>" + std::to_string(++row) + "</td><td>" + esc(field(r, "protector")) + "</td>";
    for (const auto& [name, _] : prevalence.items()) {
      std::map<int64_t, double> worst_by_seed;
      for (const auto& a : field(r, "attackers"))
        if (field(a, "per_attribute_ap").contains(name)) {
          auto& w = worst_by_seed[a.value("seed", int64_t{0})];
          w = std::max(w, field(a, "per_attribute_ap")[name].get<double>());
        }
      double sum = 0;
      for (const auto& [seed, ap] : worst_by_seed) sum += ap;
      h += "<td>" + (worst_by_seed.empty() ? std::string("—") : num(json(sum / static_cast<double>(worst_by_seed.size())), "%.2f")) + "</td>";
    }
    h += "</tr>";
  }
  return h + "</table>";
}

}  // namespace

std::string render_html_report(const json& results) {
  std::string h = "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>scrim evaluation</title><style>"
                  "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}"
                  "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
                  "th{background:#f4f4f4}td:nth-child(2),th:nth-child(2){text-align:left;font-family:monospace}"
                  ".ex img{width:112px;height:112px;image-rendering:pixelated;margin:2px;border:1px solid #ddd}.note{color:#666;font-size:13px}"
                  "</style></head><body><h1>scrim evaluation</h1>";
  h += "<p>Data <code>" + esc(field(results, "manifest")) + "</code> (" + std::to_string(field(results, "train_samples").get<int>()) + " train, " +
       std::to_string(field(results, "test_samples").get<int>()) + " test samples); MLLM <code>" + esc(field(results, "mllm")) +
       "</code>; attackers retrained on each protected training split: ";
  for (const auto& a : field(results, "attackers")) h += "<code>" + esc(a) + "</code> ";
  const int seeds = results.value("attacker_seeds", 1);
  h += seeds > 1 ? "(worst case per seed; the mean over " + std::to_string(seeds) + " seeds reported, ± its standard deviation).</p>"
                 : std::string("(worst case reported).</p>");
  h += "<h2>Trade-off</h2>" + plot(results);
  h += "<p class='note'>Green: the non-dominated front. Hypervolume against (0, 0): " + num(field(results, "hypervolume")) +
       ". Blue: the floor, the cMAP of an attacker that reads nothing (the mean test prevalence of the attributes); grey: raw. "
       "Vertical bars: ± the attacker-seed standard deviation.</p>";
  h += "<h2>Results</h2><table><tr><th>#</th><th>protector</th><th>utility</th><th>p(true answer)</th><th>attacker cMAP</th><th>leakage</th><th>attacker F1</th>"
       "<th>identity top-1</th><th>MLLM leakage</th><th>OCR char recall</th><th>face detector hits</th><th>queries</th><th>cache hits</th><th>seconds</th></tr>";
  // The utility's paired difference from raw's on the same questions, ± its standard error.
  auto versus_raw = [](const json& r) {
    if (!r.contains("utility_vs_raw") || r.value("protector", "") == "raw") return std::string();
    char buf[64];
    std::snprintf(buf, sizeof buf, " (%+.4f ± %.4f vs raw)", r["utility_vs_raw"][0].get<double>(), r["utility_vs_raw"][1].get<double>());
    return std::string(buf);
  };
  int row = 0;
  for (const auto& r : field(results, "protectors")) {
    h += "<tr><td>" + std::to_string(++row) + "</td><td>" + esc(field(r, "protector")) + "</td><td>" + num(field(r, "utility")) + versus_raw(r) + "</td><td>" + num(field(r, "utility_probability")) + "</td><td>" +
         num(field(r, "cmap")) + (r.contains("cmap_sd") ? " ± " + num(field(r, "cmap_sd")) : "") + "</td><td>" + num(r.value("leakage", json(-1))) +
         (r.contains("leakage_worst_seed") ? " (strongest seed " + num(field(r, "leakage_worst_seed")) + ")" : "") + "</td><td>" + num(field(r, "mean_f1")) + "</td><td>" + num(field(r, "identity_top1")) + "</td><td>" +
         num(r.value("mllm_leakage", json(-1))) + "</td><td>" + num(r.value("ocr_character_recall", json(-1))) + "</td><td>" +
         num(r.value("face_detector_hit_rate", json(-1))) + "</td><td>" + std::to_string(field(r, "queries").get<int64_t>()) + "</td><td>" +
         std::to_string(field(r, "cache_hits").get<int64_t>()) + "</td><td>" + num(field(r, "seconds"), "%.0f") + "</td></tr>";
  }
  h += "</table><p class='note'>Utility: top-1 accuracy (action) or VQA accuracy, on the protected test split; in brackets its "
       "difference from raw's on the same questions, ± that paired difference's standard error. Lower is better for every "
       "privacy column. cMAP leaves out attributes with no positive test label. Leakage = (cMAP − floor) / (cMAP of raw − floor): "
       "0 = nothing readable, 1 = as readable as raw pictures (— without a raw row); in brackets the same from each row's strongest "
       "attacker seed, which a seed that failed to train cannot pull down. Floor: cMAP " + num(results.value("cmap_floor", json(-1))) +
       ", identity top-1 " + num(results.value("identity_floor", json(-1))) + " (always the most frequent identity).</p>";
  h += per_attribute_table(results) + "<h2>Examples (raw, protected)</h2>";
  for (const auto& r : field(results, "protectors")) {
    h += "<h3><code>" + esc(field(r, "protector")) + "</code></h3><div class='ex'>";
    for (const auto& e : field(r, "examples"))
      h += "<img alt='raw' src='" + field(e, "raw").get<std::string>() + "'><img alt='protected' src='" + field(e, "protected").get<std::string>() + "'> ";
    h += "</div>";
  }
  return h + "</body></html>\n";
}

}  // namespace scrim
