// libFuzzer target for the request parsers the network reaches: the privacy
// proxy's image-part walker (chat completions and responses) and the
// reference server's chat-request parser, with real image decoding.
// Any exception other than the documented ones, or any crash, is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scrim/core/error.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/openai_protocol.h"
#include "serve/image_parts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  scrim::ImageReadOptions limits;
  limits.max_pixels = 1 << 20;
  auto rewrite = [&](const std::string& url, const std::string& param) {
    auto bytes = scrim::openai::decode_data_url(url, param);
    try {
      scrim::decode_image(bytes, param, limits);
    } catch (const scrim::Error& e) {
      throw scrim::openai::ProtocolError(400, e.what(), "invalid_request_error", param);
    }
    return std::string("data:image/png;base64,AAAA");
  };
  for (bool responses : {false, true}) {
    auto body = nlohmann::json::parse(text, nullptr, false);
    if (body.is_discarded()) break;
    try {
      if (responses) scrim::serve::rewrite_responses_images(body, rewrite, false, 4);
      else scrim::serve::rewrite_chat_images(body, rewrite, false, 4);
    } catch (const scrim::openai::ProtocolError&) {
    }
  }
  try {
    scrim::openai::parse_chat_request(text, limits, 4);
  } catch (const scrim::openai::ProtocolError&) {
  }
  return 0;
}
