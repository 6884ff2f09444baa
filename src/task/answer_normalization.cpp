#include "scrim/task/answer_normalization.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <sstream>

namespace scrim {
namespace {

const std::map<std::string, std::string>& number_words() {
  static const std::map<std::string, std::string> kMap = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"}, {"five", "5"},
      {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}};
  return kMap;
}

// A subset of the official script's contraction table (apostrophe restored).
const std::map<std::string, std::string>& contractions() {
  static const std::map<std::string, std::string> kMap = {
      {"aint", "ain't"},     {"arent", "aren't"},   {"cant", "can't"},     {"couldnt", "couldn't"},
      {"didnt", "didn't"},   {"doesnt", "doesn't"}, {"dont", "don't"},     {"hadnt", "hadn't"},
      {"hasnt", "hasn't"},   {"havent", "haven't"}, {"hes", "he's"},       {"isnt", "isn't"},
      {"itll", "it'll"},     {"lets", "let's"},     {"shes", "she's"},     {"shouldnt", "shouldn't"},
      {"thats", "that's"},   {"theres", "there's"}, {"theyre", "they're"}, {"wasnt", "wasn't"},
      {"werent", "weren't"}, {"whats", "what's"},   {"wont", "won't"},     {"wouldnt", "wouldn't"},
      {"youre", "you're"},   {"youve", "you've"},   {"im", "i'm"},         {"ive", "i've"}};
  return kMap;
}

const std::string kPunct = ";/[]\"{}()=+\\_-><@`,?!";

std::string process_punctuation(const std::string& in) {
  static const std::regex comma_strip("(\\d)(,)(\\d)");
  static const std::regex period_strip("(?!<=\\d)(\\.)(?!\\d)");
  std::string out = in;
  bool digit_comma = std::regex_search(in, comma_strip);
  for (char p : kPunct) {
    std::string ps(1, p);
    bool spaced = in.find(ps + " ") != std::string::npos || in.find(" " + ps) != std::string::npos;
    std::string repl = (spaced || digit_comma) ? "" : " ";
    std::string next;
    for (char c : out) {
      if (c == p) next += repl;
      else next += c;
    }
    out = next;
  }
  return std::regex_replace(out, period_strip, "");
}

std::string process_digit_article(const std::string& in) {
  std::istringstream words(in);
  std::vector<std::string> kept;
  std::string w;
  while (words >> w) {
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return std::tolower(c); });
    if (auto it = number_words().find(w); it != number_words().end()) w = it->second;
    if (w == "a" || w == "an" || w == "the") continue;
    if (auto it = contractions().find(w); it != contractions().end()) w = it->second;
    kept.push_back(w);
  }
  std::string out;
  for (size_t i = 0; i < kept.size(); ++i) out += (i ? " " : "") + kept[i];
  return out;
}

}  // namespace

std::string normalize_vqa_answer(const std::string& answer) {
  std::string a = answer;
  std::replace(a.begin(), a.end(), '\n', ' ');
  std::replace(a.begin(), a.end(), '\t', ' ');
  std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
  return process_digit_article(process_punctuation(a));
}

double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& humans) {
  if (humans.empty()) return 0.0;
  std::string p = normalize_vqa_answer(predicted);
  std::vector<std::string> gts;
  for (const auto& h : humans) gts.push_back(normalize_vqa_answer(h));
  double total = 0.0;
  for (size_t leave = 0; leave < gts.size(); ++leave) {
    int matches = 0;
    for (size_t j = 0; j < gts.size(); ++j)
      if (j != leave && gts[j] == p) ++matches;
    total += std::min(1.0, matches / 3.0);
  }
  return total / static_cast<double>(gts.size());
}

std::string majority_answer(const std::vector<std::string>& humans) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& h : humans) {
    std::string n = normalize_vqa_answer(h);
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == n; });
    if (it == counts.end()) counts.emplace_back(n, 1);
    else ++it->second;
  }
  if (counts.empty()) return "";
  return std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second < b.second; })->first;
}

std::string normalize_label_text(const std::string& text) {
  std::string s;
  for (unsigned char c : text) s += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : ' ';
  return process_digit_article(s);
}

std::string crude_stem(const std::string& word) {
  std::string w = word;
  auto ends = [&](const std::string& suf) { return w.size() > suf.size() + 2 && w.compare(w.size() - suf.size(), suf.size(), suf) == 0; };
  if (ends("ing")) w.resize(w.size() - 3);
  else if (ends("es")) w.resize(w.size() - 2);
  else if (ends("s")) w.resize(w.size() - 1);
  else if (ends("e")) w.resize(w.size() - 1);
  // "running" -> "runn" -> "run"; "sitting" -> "sit"
  if (w.size() > 3 && w[w.size() - 1] == w[w.size() - 2]) w.pop_back();
  return w;
}

}  // namespace scrim
