#include "serve/image_parts.h"

#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {
namespace {

using openai::ProtocolError;

void refuse_or_count(const std::string& type, const json& part, const std::string& param, const PartPolicy& policy, PartCounts& counts) {
  if (!policy.allow_unprotected.count(type))
    throw ProtocolError(400, "content part of type '" + type + "' cannot be protected and is refused (the proxy forwards images only after protecting them)",
                        "invalid_request_error", param, "unsupported_content");
  counts.unprotected.push_back({type, param, &part});
}

void count_image(PartCounts& counts, int max_images, const std::string& param) {
  if (++counts.images > max_images)
    throw ProtocolError(400, "too many images (limit " + std::to_string(max_images) + ")", "invalid_request_error", param, "too_many_images");
}

std::string part_type(const json& part, const std::string& param) {
  if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
    throw ProtocolError(400, "each content part needs a 'type'", "invalid_request_error", param);
  return part["type"].get<std::string>();
}

// Responses items that carry text and tool arguments only. Anything image-like
// inside them is caught by the request guard's scan, not forwarded.
bool text_only_item(const std::string& type) {
  return type == "function_call" || type == "reasoning" || type == "item_reference" || type == "custom_tool_call" ||
         type == "web_search_call" || type == "file_search_call" || type == "mcp_call" || type == "mcp_list_tools";
}

class ResponsesWalker {
 public:
  ResponsesWalker(const ImageRewrite& rewrite, const PartPolicy& policy) : rewrite_(rewrite), policy_(policy) {}

  PartCounts walk(json& body) {
    if (!body.is_object()) throw ProtocolError(400, "request body must be a JSON object");
    auto it = body.find("input");
    if (it == body.end() || it->is_string()) return counts_;
    if (!it->is_array()) throw ProtocolError(400, "'input' must be a string or an array", "invalid_request_error", "input");
    for (size_t k = 0; k < it->size(); ++k) item((*it)[k], "input[" + std::to_string(k) + "]");
    return counts_;
  }

 private:
  void item(json& item, const std::string& ip) {
    if (!item.is_object()) throw ProtocolError(400, "each input item must be an object", "invalid_request_error", ip);
    std::string type = item.contains("type") && item["type"].is_string() ? item["type"].get<std::string>() : "message";
    if (type == "message") return content(item, "content", ip);
    if (text_only_item(type)) return;
    if (type == "function_call_output") return content(item, "output", ip);
    if (type == "computer_call_output") {
      auto out = item.find("output");
      if (out == item.end() || !out->is_object()) throw ProtocolError(400, "computer_call_output needs an output object", "invalid_request_error", ip + ".output");
      return image_url(*out, ip + ".output");
    }
    part(item, ip);  // a bare content part at the top level
  }

  // A message's content (or a tool output): a string, or an array of parts.
  void content(json& item, const char* key, const std::string& ip) {
    auto it = item.find(key);
    std::string cp = ip + "." + key;
    if (it == item.end() || it->is_string()) return;
    if (!it->is_array()) throw ProtocolError(400, std::string(key) + " must be a string or an array", "invalid_request_error", cp);
    for (size_t i = 0; i < it->size(); ++i) part((*it)[i], cp + "[" + std::to_string(i) + "]");
  }

  void part(json& part, const std::string& p) {
    std::string type = part_type(part, p);
    if (type == "input_text" || type == "output_text" || type == "text" || type == "refusal") return;
    if (type != "input_image") return refuse_or_count(type, part, p, policy_, counts_);
    image_url(part, p);
  }

  void image_url(json& part, const std::string& p) {
    count_image(counts_, policy_.max_images, p);
    if (part.contains("file_id")) return refuse_or_count("file_id", part, p, policy_, counts_);
    if (!part.contains("image_url") || !part["image_url"].is_string())
      throw ProtocolError(400, "an image needs an image_url string", "invalid_request_error", p + ".image_url");
    part["image_url"] = rewrite_(part["image_url"].get<std::string>(), p + ".image_url");
  }

  const ImageRewrite& rewrite_;
  const PartPolicy& policy_;
  PartCounts counts_;
};

}  // namespace

PartCounts rewrite_chat_images(json& body, const ImageRewrite& rewrite, const PartPolicy& policy) {
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
      std::string type = part_type(part, p);
      if (type == "text" || type == "refusal") continue;
      if (type != "image_url") {
        refuse_or_count(type, part, p, policy, counts);
        continue;
      }
      count_image(counts, policy.max_images, p);
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

PartCounts rewrite_responses_images(json& body, const ImageRewrite& rewrite, const PartPolicy& policy) {
  return ResponsesWalker(rewrite, policy).walk(body);
}

}  // namespace scrim::serve
