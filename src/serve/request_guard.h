// The privacy proxy's whole request path without I/O: the client's body bytes
// in, the body to forward upstream out. Parsing is bounded (nesting depth),
// every image the walker understands is rewritten through the callback, and the
// result is then scanned: any image-looking value anywhere that was not
// protected (a data URL, base64 image bytes, a remote image URL) refuses the
// request. Deny by default: the walker is the only way an image leaves.
#pragma once

#include <string>
#include <string_view>

#include "serve/image_parts.h"

namespace scrim::serve {

enum class Api { kChatCompletions, kResponses };

struct GuardOptions {
  PartPolicy parts;
  int max_depth = 64;  // JSON nesting; real requests use about 6
};

struct GuardedRequest {
  std::string payload;  // the body to forward
  bool stream = false;
  PartCounts counts;
};

// Parses JSON with a nesting limit; throws openai::ProtocolError(400) on
// malformed or too deeply nested input (never recurses per nesting level).
nlohmann::json parse_bounded_json(std::string_view body, int max_depth);

// Throws openai::ProtocolError to refuse; nothing is returned unless every
// image in the result is one that `rewrite` produced.
GuardedRequest guard_request(std::string_view body, Api api, const ImageRewrite& rewrite, const GuardOptions& options);

// True when a string carries image content: a data URL (or one embedded in
// text), or base64 whose bytes start with an image signature.
bool looks_like_image_data(std::string_view value);

}  // namespace scrim::serve
