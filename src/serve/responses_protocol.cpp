#include "serve/responses_protocol.h"

#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {

namespace {

using openai::ProtocolError;

// The string at `key`, or "" when it is missing or not a string.
std::string string_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

json chat_part(const json& part, const std::string& p) {
  std::string type = string_field(part, "type");
  if (type == "input_text" || type == "output_text") {
    if (!part.contains("text") || !part["text"].is_string()) throw ProtocolError(400, "a text part needs a 'text' string", "invalid_request_error", p);
    return {{"type", "text"}, {"text", part["text"]}};
  }
  if (type == "input_image") {
    if (part.contains("file_id")) throw ProtocolError(400, "input_image by file_id is not supported: send a data URL", "invalid_request_error", p);
    if (!part.contains("image_url") || !part["image_url"].is_string())
      throw ProtocolError(400, "an input_image needs an image_url string", "invalid_request_error", p + ".image_url");
    return {{"type", "image_url"}, {"image_url", {{"url", part["image_url"]}}}};
  }
  return part;  // the chat parser refuses types it does not know, where it reads them
}

json chat_message(const json& item, const std::string& p) {
  if (!item.is_object()) throw ProtocolError(400, "each input item must be an object", "invalid_request_error", p);
  if (item.contains("type")) {
    std::string type = string_field(item, "type");
    if (type != "message")
      throw ProtocolError(400, "the reference server answers message items only, not '" + type + "'", "invalid_request_error", p + ".type",
                          "unsupported_input_item");
  }
  std::string role = string_field(item, "role");
  if (role.empty()) throw ProtocolError(400, "each message item needs a 'role'", "invalid_request_error", p + ".role");
  const json content = item.value("content", json());
  if (content.is_string()) return {{"role", role}, {"content", content}};
  if (!content.is_array()) throw ProtocolError(400, "'content' must be a string or an array of parts", "invalid_request_error", p + ".content");
  json parts = json::array();
  for (size_t j = 0; j < content.size(); ++j) parts.push_back(chat_part(content[j], p + ".content[" + std::to_string(j) + "]"));
  return {{"role", role}, {"content", parts}};
}

json output_text_part(const std::string& text) { return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}}; }

json message_item(const std::string& id, json content, const char* status) {
  return {{"type", "message"}, {"id", id}, {"status", status}, {"role", "assistant"}, {"content", std::move(content)}};
}

json response_shell(const std::string& id, const std::string& model, int64_t created, const char* status) {
  return {{"id", id},           {"object", "response"}, {"created_at", created},          {"status", status},
          {"error", nullptr},   {"model", model},       {"incomplete_details", nullptr},  {"output", json::array()},
          {"usage", nullptr},   {"tools", json::array()}, {"tool_choice", "auto"},        {"parallel_tool_calls", false}};
}

json usage(const OracleReply& reply) {
  return {{"input_tokens", reply.usage.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", 0}}},
          {"output_tokens", reply.usage.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", reply.usage.prompt_tokens + reply.usage.completion_tokens}};
}

}  // namespace

json chat_body_from_responses(const json& body) {
  if (!body.is_object()) throw ProtocolError(400, "request body must be a JSON object");
  json chat = json::object();
  for (const char* key : {"model", "stream", "temperature"})
    if (body.contains(key)) chat[key] = body[key];
  if (body.contains("max_output_tokens")) chat["max_tokens"] = body["max_output_tokens"];
  if (!body.contains("input")) throw ProtocolError(400, "'input' is required", "invalid_request_error", "input");
  const json& input = body["input"];
  json messages = json::array();
  if (input.is_string()) {
    messages.push_back({{"role", "user"}, {"content", input}});
  } else if (input.is_array()) {
    for (size_t i = 0; i < input.size(); ++i) messages.push_back(chat_message(input[i], "input[" + std::to_string(i) + "]"));
  } else {
    throw ProtocolError(400, "'input' must be a string or an array of items", "invalid_request_error", "input");
  }
  chat["messages"] = std::move(messages);
  return chat;
}

std::string responses_param(const std::string& chat_param) {
  std::string p = chat_param;
  if (p.rfind("messages", 0) == 0) p.replace(0, 8, "input");
  const std::string url = ".image_url.url";
  if (p.size() >= url.size() && p.compare(p.size() - url.size(), url.size(), url) == 0) p.resize(p.size() - 4);
  return p;
}

json response_object(const OracleReply& reply, const std::string& model, const std::string& id, int64_t created) {
  json r = response_shell(id, model, created, "completed");
  r["output"].push_back(message_item("msg_" + id, json::array({output_text_part(reply.text)}), "completed"));
  r["usage"] = usage(reply);
  return r;
}

std::vector<std::pair<std::string, json>> response_events(const OracleReply& reply, const std::string& model, const std::string& id,
                                                          int64_t created) {
  std::string item_id = "msg_" + id;
  std::vector<std::pair<std::string, json>> events;
  auto add = [&](const std::string& type, json data) {
    data["type"] = type;
    data["sequence_number"] = events.size();
    events.emplace_back(type, std::move(data));
  };
  json where = {{"item_id", item_id}, {"output_index", 0}, {"content_index", 0}};
  auto at = [&](json extra) {
    json d = where;
    d.update(extra);
    return d;
  };
  add("response.created", {{"response", response_shell(id, model, created, "in_progress")}});
  add("response.in_progress", {{"response", response_shell(id, model, created, "in_progress")}});
  add("response.output_item.added", {{"output_index", 0}, {"item", message_item(item_id, json::array(), "in_progress")}});
  add("response.content_part.added", at({{"part", output_text_part("")}}));
  add("response.output_text.delta", at({{"delta", reply.text}}));
  add("response.output_text.done", at({{"text", reply.text}}));
  add("response.content_part.done", at({{"part", output_text_part(reply.text)}}));
  add("response.output_item.done", {{"output_index", 0}, {"item", message_item(item_id, json::array({output_text_part(reply.text)}), "completed")}});
  add("response.completed", {{"response", response_object(reply, model, id, created)}});
  return events;
}

}  // namespace scrim::serve
