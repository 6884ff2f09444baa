#include "scrim/oracle/openai_protocol.h"

#include <cmath>

#include "scrim/core/base64.h"
#include "scrim/oracle/oracle_error.h"

using nlohmann::json;

namespace scrim::openai {

namespace {
// Lenient field readers: a missing field or one of the wrong type reads as empty,
// never as an exception (bodies come from the network).
std::string str_field(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t int_field(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
}  // namespace

json error_body(const std::string& message, const std::string& type, const std::string& param, const std::string& code) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

std::string data_url(const std::vector<uint8_t>& bytes, const std::string& mime) {
  return "data:" + mime + ";base64," + base64_encode(bytes);
}

std::vector<uint8_t> decode_data_url(const std::string& url, const std::string& param) {
  if (url.rfind("data:", 0) != 0) throw ProtocolError(400, "image URL must be a data: URL", "invalid_request_error", param, "invalid_image_url");
  auto comma = url.find(',');
  if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos)
    throw ProtocolError(400, "data URL must be base64-encoded", "invalid_request_error", param, "invalid_image_url");
  auto bytes = base64_decode(std::string_view(url).substr(comma + 1));
  if (!bytes) throw ProtocolError(400, "data URL holds invalid base64", "invalid_request_error", param, "invalid_base64");
  return *bytes;
}

json make_chat_request(const OracleRequest& request, const std::string& model, bool stream) {
  json content = json::array();
  content.push_back({{"type", "text"}, {"text", request.prompt}});
  bool png = request.options.encoding == ImageEncoding::kPng;
  for (const auto& img : request.images) {
    auto bytes = encode_image(img, png ? ImageFormat::kPng : ImageFormat::kJpeg, request.options.jpeg_quality);
    content.push_back({{"type", "image_url"},
                       {"image_url", {{"url", data_url(bytes, png ? "image/png" : "image/jpeg")}, {"detail", request.options.detail}}}});
  }
  json body = {{"model", model},
               {"messages", json::array({{{"role", "user"}, {"content", content}}})},
               {"max_tokens", request.options.max_tokens},
               {"temperature", request.options.temperature},
               {"stream", stream}};
  // Always explicit: some servers default logprobs on, others off.
  body["logprobs"] = request.options.top_logprobs > 0;
  if (request.options.top_logprobs > 0) body["top_logprobs"] = request.options.top_logprobs;
  return body;
}

OracleReply parse_chat_response(const std::string& text) {
  auto malformed = [](const std::string& what) {
    return OracleError(OracleError::Kind::kMalformed, "malformed chat-completions reply: " + what);
  };
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) throw malformed("not JSON");
  if (!body.is_object() || !body.contains("choices") || !body["choices"].is_array() || body["choices"].empty())
    throw malformed("no choices");
  const json& choice = body["choices"][0];
  if (!choice.is_object() || !choice.contains("message") || !choice["message"].is_object()) throw malformed("no message");
  OracleReply reply;
  const json& content = choice["message"].value("content", json(nullptr));
  if (content.is_string()) {
    reply.text = content.get<std::string>();
  } else if (content.is_array()) {
    for (const auto& part : content)
      if (str_field(part, "type") == "text" && part.contains("text") && part["text"].is_string())
        reply.text += part["text"].get<std::string>();
  } else if (!content.is_null()) {
    throw malformed("content is neither text nor parts");
  }
  if (choice.contains("logprobs") && choice["logprobs"].is_object() && choice["logprobs"].contains("content") &&
      choice["logprobs"]["content"].is_array()) {
    for (const auto& t : choice["logprobs"]["content"]) {
      if (!t.is_object() || !t.contains("token") || !t["token"].is_string() || !t.contains("logprob") || !t["logprob"].is_number())
        throw malformed("bad logprobs entry");
      TokenLogprob tok{t["token"].get<std::string>(), t["logprob"].get<double>(), {}};
      if (t.contains("top_logprobs") && t["top_logprobs"].is_array())
        for (const auto& a : t["top_logprobs"])
          if (a.is_object() && a.contains("token") && a["token"].is_string() && a.contains("logprob") && a["logprob"].is_number())
            tok.top.push_back({a["token"].get<std::string>(), a["logprob"].get<double>()});
      reply.logprobs.push_back(std::move(tok));
    }
  }
  if (body.contains("usage") && body["usage"].is_object()) {
    reply.usage.prompt_tokens = int_field(body["usage"], "prompt_tokens");
    reply.usage.completion_tokens = int_field(body["usage"], "completion_tokens");
  }
  return reply;
}

ServiceError parse_service_error(const std::string& text) {
  ServiceError e;
  json body = json::parse(text, nullptr, false);
  auto str = [](const json& v) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    return "";
  };
  if (body.is_object()) {
    if (body.contains("error") && body["error"].is_object()) {  // OpenAI, llama.cpp
      const json& err = body["error"];
      e.message = str(err.value("message", json()));
      e.type = str(err.value("type", json()));
      e.code = str(err.value("code", json()));
    } else if (body.contains("error") && body["error"].is_string()) {  // Ollama
      e.message = body["error"].get<std::string>();
    } else if (str_field(body, "object") == "error" || body.contains("message")) {  // vLLM
      e.message = str(body.value("message", json()));
      e.type = str(body.value("type", json()));
      e.code = str(body.value("code", json()));
    }
  }
  if (e.message.empty()) e.message = one_line(text.substr(0, 200));
  return e;
}

ChatRequest parse_chat_request(const std::string& text, const ImageReadOptions& limits, int max_images) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) throw ProtocolError(400, "request body is not valid JSON");
  if (!body.is_object()) throw ProtocolError(400, "request body must be a JSON object");
  ChatRequest r;
  if (body.contains("model")) {
    if (!body["model"].is_string()) throw ProtocolError(400, "'model' must be a string", "invalid_request_error", "model");
    r.model = body["model"].get<std::string>();
  }
  for (const char* flag : {"stream", "logprobs"})
    if (body.contains(flag) && !body[flag].is_boolean() && !body[flag].is_null())
      throw ProtocolError(400, std::string("'") + flag + "' must be true or false", "invalid_request_error", flag);
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    throw ProtocolError(400, "'messages' must be a non-empty array", "invalid_request_error", "messages");
  if (body.contains("max_tokens") && body["max_tokens"].is_number_integer()) r.options.max_tokens = body["max_tokens"];
  if (body.contains("temperature") && body["temperature"].is_number()) r.options.temperature = body["temperature"];
  r.stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
  r.logprobs = body.contains("logprobs") && body["logprobs"].is_boolean() && body["logprobs"].get<bool>();
  r.options.top_logprobs = 0;
  if (r.logprobs) {
    r.options.top_logprobs = 1;
    if (body.contains("top_logprobs")) {
      if (!body["top_logprobs"].is_number_integer() || body["top_logprobs"] < 0 || body["top_logprobs"] > 20)
        throw ProtocolError(400, "'top_logprobs' must be an integer from 0 to 20", "invalid_request_error", "top_logprobs");
      r.options.top_logprobs = std::max(1, body["top_logprobs"].get<int>());
    }
  }
  // The last user message carries the question and the images.
  const json& messages = body["messages"];
  int last_user = -1;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].is_object() || !messages[i].contains("role"))
      throw ProtocolError(400, "each message needs a 'role'", "invalid_request_error", "messages[" + std::to_string(i) + "]");
    if (messages[i]["role"] == "user") last_user = static_cast<int>(i);
  }
  if (last_user < 0) throw ProtocolError(400, "no user message", "invalid_request_error", "messages");
  std::string param = "messages[" + std::to_string(last_user) + "].content";
  const json& content = messages[last_user].value("content", json());
  if (content.is_string()) {
    r.prompt = content.get<std::string>();
  } else if (content.is_array()) {
    for (size_t i = 0; i < content.size(); ++i) {
      const json& part = content[i];
      std::string p = param + "[" + std::to_string(i) + "]";
      std::string type = str_field(part, "type");
      if (type == "text") {
        if (!part.contains("text") || !part["text"].is_string()) throw ProtocolError(400, "text part without text", "invalid_request_error", p);
        if (!r.prompt.empty()) r.prompt += '\n';
        r.prompt += part["text"].get<std::string>();
      } else if (type == "image_url") {
        const json& iu = part.value("image_url", json());
        std::string url = iu.is_string() ? iu.get<std::string>() : str_field(iu, "url");
        if (static_cast<int>(r.images.size()) >= max_images)
          throw ProtocolError(400, "too many images (limit " + std::to_string(max_images) + ")", "invalid_request_error", p);
        auto bytes = decode_data_url(url, p + ".image_url.url");
        try {
          r.images.push_back(decode_image(bytes, p, limits));
        } catch (const Error& e) {
          throw ProtocolError(400, e.what(), "invalid_request_error", p + ".image_url.url", "invalid_image");
        }
      } else {
        throw ProtocolError(400, "unsupported content part type '" + type + "'", "invalid_request_error", p, "unsupported_content");
      }
    }
  } else {
    throw ProtocolError(400, "content must be a string or an array of parts", "invalid_request_error", param);
  }
  return r;
}

namespace {

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

json logprobs_json(const OracleReply& reply) {
  json content = json::array();
  for (const auto& t : reply.logprobs) {
    json top = json::array();
    for (const auto& a : t.top) top.push_back({{"token", a.token}, {"logprob", a.logprob}, {"bytes", bytes_of(a.token)}});
    content.push_back({{"token", t.token}, {"logprob", t.logprob}, {"bytes", bytes_of(t.token)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

}  // namespace

json completion_body(const OracleReply& reply, const std::string& model, const std::string& id, int64_t created, bool logprobs) {
  json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", reply.text}}},
                 {"logprobs", logprobs ? logprobs_json(reply) : json(nullptr)},
                 {"finish_reason", "stop"}};
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array({choice})},
          {"usage",
           {{"prompt_tokens", reply.usage.prompt_tokens},
            {"completion_tokens", reply.usage.completion_tokens},
            {"total_tokens", reply.usage.prompt_tokens + reply.usage.completion_tokens}}}};
}

std::vector<std::string> completion_chunks(const OracleReply& reply, const std::string& model, const std::string& id,
                                           int64_t created, bool logprobs) {
  auto chunk = [&](json delta, json lp, json finish) {
    return json{{"id", id},
                {"object", "chat.completion.chunk"},
                {"created", created},
                {"model", model},
                {"choices", json::array({{{"index", 0}, {"delta", delta}, {"logprobs", lp}, {"finish_reason", finish}}})}}
        .dump();
  };
  std::vector<std::string> out;
  out.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
  out.push_back(chunk({{"content", reply.text}}, logprobs ? logprobs_json(reply) : json(nullptr), nullptr));
  out.push_back(chunk(json::object(), nullptr, "stop"));
  out.push_back("[DONE]");
  return out;
}

}  // namespace scrim::openai
