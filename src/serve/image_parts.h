// Finds every image in an OpenAI request body and replaces it through a
// callback; refuses the parts it cannot protect. The request parser of the
// privacy proxy, kept free of I/O so it can be fuzzed.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scrim::serve {

// Given an image URL (data: or http(s):) and the JSON path of the part, returns
// the data URL of the protected image. Throws openai::ProtocolError to refuse.
using ImageRewrite = std::function<std::string(const std::string& url, const std::string& param)>;

// What the walker does with parts it cannot protect.
struct PartPolicy {
  std::set<std::string> allow_unprotected;  // part types forwarded unchanged (e.g. "input_audio", "file"); empty: none
  int max_images = 16;
};

struct UnprotectedPart {
  std::string type, param;
  const nlohmann::json* node = nullptr;  // the part in the body (valid while the body is unchanged)
};

struct PartCounts {
  int images = 0;
  std::vector<UnprotectedPart> unprotected;  // parts forwarded because their type was allowed
};

// Chat completions: messages[*].content[*] parts of type image_url.
// Responses: input (a string or items) with content parts of type input_image;
// text-only items (function calls and their outputs, reasoning, item
// references) pass. Any other part (input_audio, file, input_file, video_url,
// Anthropic-style image, ...) is refused with a ProtocolError unless its type
// is allowed. Throws ProtocolError for malformed shapes or too many images.
PartCounts rewrite_chat_images(nlohmann::json& body, const ImageRewrite& rewrite, const PartPolicy& policy);
PartCounts rewrite_responses_images(nlohmann::json& body, const ImageRewrite& rewrite, const PartPolicy& policy);

}  // namespace scrim::serve
