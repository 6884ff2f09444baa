#include "serve/image_parts.h"

#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {
namespace {

using openai::ProtocolError;

void refuse_or_count(const std::string& type, const std::string& param, bool allow, PartCounts& counts) {
  if (!allow)
    throw ProtocolError(400, "content part of type '" + type + "' cannot be protected and is refused (the proxy forwards images only after protecting them)",
                        "invalid_request_error", param, "unsupported_content");
  ++counts.unprotected_passed;
}

void count_image(PartCounts& counts, int max_images, const std::string& param) {
  if (++counts.images > max_images)
    throw ProtocolError(400, "too many images (limit " + std::to_string(max_images) + ")", "invalid_request_error", param, "too_many_images");
}

}  // namespace

PartCounts rewrite_chat_images(json& body, const ImageRewrite& rewrite, bool allow, int max_images) {
  if (!body.is_object()) throw ProtocolError(400, "request body must be a JSON object");
  if (!body.contains("messages") || !body["messages"].is_array())
    throw ProtocolError(400, "'messages' must be an array", "invalid_request_error", "messages");
  PartCounts counts;
  auto& messages = body["messages"];
  for (size_t m = 0; m < messages.size(); ++m) {
    std::string mp = "messages[" + std::to_string(m) + "]";
    if (!messages[m].is_object()) throw ProtocolError(400, "each message must be an object", "invalid_request_error", mp);
    auto it = messages[m].find("content");
    if (it == messages[m].end() || it->is_string() || it->is_null()) continue;
    if (!it->is_array()) throw ProtocolError(400, "content must be a string or an array of parts", "invalid_request_error", mp + ".content");
    for (size_t i = 0; i < it->size(); ++i) {
      json& part = (*it)[i];
      std::string p = mp + ".content[" + std::to_string(i) + "]";
      if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
        throw ProtocolError(400, "each content part needs a 'type'", "invalid_request_error", p);
      std::string type = part["type"];
      if (type == "text" || type == "refusal") continue;
      if (type != "image_url") {
        refuse_or_count(type, p, allow, counts);
        continue;
      }
      count_image(counts, max_images, p);
      json& iu = part["image_url"];
      std::string pp = p + ".image_url.url";
      if (iu.is_string()) {
        iu = rewrite(iu.get<std::string>(), pp);
      } else if (iu.is_object() && iu.contains("url") && iu["url"].is_string()) {
        iu["url"] = rewrite(iu["url"].get<std::string>(), pp);
      } else {
        throw ProtocolError(400, "image_url part without a url", "invalid_request_error", pp);
      }
    }
  }
  return counts;
}

PartCounts rewrite_responses_images(json& body, const ImageRewrite& rewrite, bool allow, int max_images) {
  if (!body.is_object()) throw ProtocolError(400, "request body must be a JSON object");
  PartCounts counts;
  auto it = body.find("input");
  if (it == body.end() || it->is_string()) return counts;
  if (!it->is_array()) throw ProtocolError(400, "'input' must be a string or an array", "invalid_request_error", "input");
  for (size_t k = 0; k < it->size(); ++k) {
    json& item = (*it)[k];
    std::string ip = "input[" + std::to_string(k) + "]";
    if (!item.is_object()) throw ProtocolError(400, "each input item must be an object", "invalid_request_error", ip);
    auto handle_part = [&](json& part, const std::string& p) {
      if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
        throw ProtocolError(400, "each content part needs a 'type'", "invalid_request_error", p);
      std::string type = part["type"];
      if (type == "input_text" || type == "output_text" || type == "text") return;
      if (type != "input_image") {
        refuse_or_count(type, p, allow, counts);
        return;
      }
      count_image(counts, max_images, p);
      if (part.contains("file_id")) refuse_or_count("input_image with file_id", p, allow, counts);
      if (!part.contains("image_url")) return;
      if (!part["image_url"].is_string()) throw ProtocolError(400, "image_url must be a string", "invalid_request_error", p + ".image_url");
      part["image_url"] = rewrite(part["image_url"].get<std::string>(), p + ".image_url");
    };
    if (item.contains("content")) {
      json& content = item["content"];
      if (content.is_string()) continue;
      if (!content.is_array()) throw ProtocolError(400, "content must be a string or an array", "invalid_request_error", ip + ".content");
      for (size_t i = 0; i < content.size(); ++i) handle_part(content[i], ip + ".content[" + std::to_string(i) + "]");
    } else if (item.contains("type")) {
      handle_part(item, ip);  // a bare part at the top level
    }
  }
  return counts;
}

}  // namespace scrim::serve
