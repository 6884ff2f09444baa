#include "serve/request_guard.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>
#include <utility>
#include <vector>

#include "scrim/core/base64.h"
#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {
namespace {

using openai::ProtocolError;

struct DepthExceeded {};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with_signature(const std::vector<uint8_t>& b) {
  auto is = [&](std::initializer_list<uint8_t> sig, size_t at = 0) {
    if (b.size() < at + sig.size()) return false;
    return std::equal(sig.begin(), sig.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
  };
  return is({0x89, 'P', 'N', 'G'}) || is({0xFF, 0xD8, 0xFF}) || is({'G', 'I', 'F', '8'}) || (is({'B', 'M'}) && is({0, 0, 0, 0}, 6)) ||
         is({'I', 'I', 0x2A, 0x00}) || is({'M', 'M', 0x00, 0x2A}) || (is({'R', 'I', 'F', 'F'}) && is({'W', 'E', 'B', 'P'}, 8)) ||
         is({'f', 't', 'y', 'p'}, 4) /* HEIC, AVIF */ || is({0x00, 0x00, 0x00, 0x0C, 'j', 'P'}) /* JPEG 2000 */;
}

// "data:[<media type>][;base64]," — a media type holds no spaces, which tells
// a data URL from prose that starts with "Data: ...".
bool is_data_url(std::string_view v) {
  if (lower(v.substr(0, 5)) != "data:") return false;
  size_t comma = v.find(',');
  if (comma == std::string_view::npos || comma > 256) return false;
  return std::all_of(v.begin() + 5, v.begin() + static_cast<std::ptrdiff_t>(comma), [](unsigned char c) {
    return std::isalnum(c) || c == '/' || c == ';' || c == '=' || c == '+' || c == '-' || c == '.' || c == '_';
  });
}

// `needle` is lower case; no copy of `text`, which may be megabytes long.
bool contains_ignoring_case(std::string_view text, std::string_view needle) {
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

bool is_base64_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '-' || c == '_' || c == '='; }

bool is_remote_url(std::string_view s) {
  std::string head = lower(s.substr(0, 8));
  return head.rfind("http://", 0) == 0 || head.rfind("https://", 0) == 0;
}

// Keys under which a URL names an image (or a file) to fetch.
bool image_key(const std::string& key) {
  return key == "image_url" || key == "image" || key == "file_url" || key == "image_data" || key == "file_data" || key == "source";
}

// Walks the rewritten body and refuses the first image-looking value that the
// rewrite did not produce. Iterative: the depth is bounded, but no recursion anyway.
void refuse_leftover_images(const json& body, const std::unordered_set<std::string>& protected_urls,
                            const std::vector<UnprotectedPart>& allowed) {
  std::unordered_set<const json*> skip;
  for (const auto& u : allowed) skip.insert(u.node);
  struct Frame {
    const json* node;
    std::string path, key, parent_key;
  };
  std::vector<Frame> stack{{&body, "", "", ""}};
  while (!stack.empty()) {
    Frame f = std::move(stack.back());
    stack.pop_back();
    if (skip.count(f.node)) continue;
    const json& n = *f.node;
    if (n.is_object()) {
      for (auto it = n.begin(); it != n.end(); ++it)
        stack.push_back({&it.value(), f.path.empty() ? it.key() : f.path + "." + it.key(), it.key(), f.key});
    } else if (n.is_array()) {
      for (size_t i = 0; i < n.size(); ++i) stack.push_back({&n[i], f.path + "[" + std::to_string(i) + "]", f.key, f.parent_key});
    } else if (n.is_string()) {
      const auto& s = n.get_ref<const std::string&>();
      if (protected_urls.count(s)) continue;
      bool remote_image = is_remote_url(s) && (image_key(f.key) || (f.key == "url" && image_key(f.parent_key)));
      if (remote_image || looks_like_image_data(s))
        throw ProtocolError(400, "image content outside the parts this proxy protects is refused", "invalid_request_error", f.path,
                            "unprotected_image");
    }
  }
}

}  // namespace

bool looks_like_image_data(std::string_view value) {
  size_t start = value.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  std::string_view v = value.substr(start);
  if (is_data_url(v) || contains_ignoring_case(v, "data:image/")) return true;
  // Bare base64 (Anthropic-style sources, b64_json): decode a prefix and look for a signature.
  if (v.size() < 16) return false;
  size_t n = std::min<size_t>(v.size(), 64) / 4 * 4;
  std::string prefix(v.substr(0, n));
  if (!std::all_of(prefix.begin(), prefix.end(), is_base64_char)) return false;
  std::replace(prefix.begin(), prefix.end(), '-', '+');
  std::replace(prefix.begin(), prefix.end(), '_', '/');
  auto bytes = base64_decode(prefix);
  return bytes && starts_with_signature(*bytes);
}

json parse_bounded_json(std::string_view body, int max_depth) {
  auto limit = [max_depth](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) && depth >= max_depth) throw DepthExceeded{};
    return true;
  };
  json parsed;
  try {
    parsed = json::parse(body.begin(), body.end(), limit, /*allow_exceptions=*/false);
  } catch (const DepthExceeded&) {
    throw ProtocolError(400, "request body nests deeper than " + std::to_string(max_depth) + " levels");
  }
  if (parsed.is_discarded()) throw ProtocolError(400, "request body is not valid JSON");
  return parsed;
}

GuardedRequest guard_request(std::string_view body, Api api, const ImageRewrite& rewrite, const GuardOptions& options) {
  json doc = parse_bounded_json(body, options.max_depth);
  if (!doc.is_object()) throw ProtocolError(400, "request body must be a JSON object");
  auto stream = doc.find("stream");
  if (stream != doc.end() && !stream->is_boolean() && !stream->is_null())
    throw ProtocolError(400, "'stream' must be true or false", "invalid_request_error", "stream");
  std::unordered_set<std::string> produced;
  auto remember = [&](const std::string& url, const std::string& param) {
    std::string out = rewrite(url, param);
    produced.insert(out);
    return out;
  };
  GuardedRequest g;
  g.counts = api == Api::kResponses ? rewrite_responses_images(doc, remember, options.parts) : rewrite_chat_images(doc, remember, options.parts);
  refuse_leftover_images(doc, produced, g.counts.unprotected);
  g.stream = stream != doc.end() && stream->is_boolean() && stream->get<bool>();
  g.payload = doc.dump();
  return g;
}

}  // namespace scrim::serve
