// libFuzzer target for the privacy proxy's whole request path, from the
// client's raw bytes to the body it would forward (serve::guard_request: bounded
// parsing, the image-part walker, the deny-by-default scan), with real image
// decoding; the image fetcher's URL parser; and the reference server's
// chat-request parser.
// A crash, an undocumented exception, or a forwarded body that still holds an
// image the proxy did not produce is a bug (the last one aborts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "scrim/core/error.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/openai_protocol.h"
#include "serve/image_fetcher.h"
#include "serve/request_guard.h"

namespace {

const std::string kProtected = "data:image/png;base64,UFJPVEVDVEVE";

// Every string left in the forwarded body that looks like an image must be one the proxy produced.
void check_nothing_unprotected_leaves(const std::string& payload) {
  auto doc = nlohmann::json::parse(payload);
  std::vector<const nlohmann::json*> stack{&doc};
  while (!stack.empty()) {
    const auto* n = stack.back();
    stack.pop_back();
    if (n->is_structured()) {
      for (const auto& child : *n) stack.push_back(&child);
    } else if (n->is_string() && n->get_ref<const std::string&>() != kProtected && scrim::serve::looks_like_image_data(n->get_ref<const std::string&>())) {
      std::abort();
    }
  }
}

}  // namespace

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
    return kProtected;
  };
  for (auto api : {scrim::serve::Api::kChatCompletions, scrim::serve::Api::kResponses}) {
    scrim::serve::GuardOptions options;
    options.parts.max_images = 4;
    options.max_depth = 32;
    try {
      auto guarded = scrim::serve::guard_request(text, api, rewrite, options);
      check_nothing_unprotected_leaves(guarded.payload);
    } catch (const scrim::openai::ProtocolError&) {
    }
  }
  // The image fetcher's hand-written URL parser sees client input too.
  if (auto url = scrim::serve::parse_fetch_url(text, 8192); url && url->host.empty()) std::abort();
  try {
    scrim::openai::parse_chat_request(text, limits, 4);
  } catch (const scrim::openai::ProtocolError&) {
  }
  return 0;
}
