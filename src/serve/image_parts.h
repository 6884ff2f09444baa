// Finds every image in an OpenAI request body and replaces it through a
// callback; refuses the parts it cannot protect. The request parser of the
// privacy proxy, kept free of I/O so it can be fuzzed.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace scrim::serve {

// Given an image URL (data: or http(s):) and the JSON path of the part, returns
// the data URL of the protected image. Throws openai::ProtocolError to refuse.
using ImageRewrite = std::function<std::string(const std::string& url, const std::string& param)>;

struct PartCounts {
  int images = 0;
  int unprotected_passed = 0;  // file/audio/video parts forwarded because they were allowed
};

// Chat completions: messages[*].content[*] parts of type image_url.
// Responses: input (a string or items) with content parts of type input_image.
// Any other non-text part (input_audio, file, input_file, video_url, ...) is
// refused with a ProtocolError unless allow_unprotected. Throws ProtocolError
// for malformed shapes or more than max_images images.
PartCounts rewrite_chat_images(nlohmann::json& body, const ImageRewrite& rewrite, bool allow_unprotected, int max_images);
PartCounts rewrite_responses_images(nlohmann::json& body, const ImageRewrite& rewrite, bool allow_unprotected, int max_images);

}  // namespace scrim::serve
