// The OpenAI chat-completions wire format, both directions, in one place:
// the HTTP oracle builds requests and reads replies with it; the reference
// server and the privacy proxy read requests and write replies with it.
// Error bodies of OpenAI, the llama.cpp server, vLLM and Ollama are all read.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>

#include "scrim/core/error.h"
#include "scrim/media/image_io.h"
#include "scrim/oracle/oracle.h"

namespace scrim::openai {

// A request the server side cannot accept: maps to an OpenAI-shaped error.
class ProtocolError : public Error {
 public:
  ProtocolError(int status, const std::string& message, std::string type = "invalid_request_error",
                std::string param = "", std::string code = "")
      : Error(message), status_(status), type_(std::move(type)), param_(std::move(param)), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string type_, param_, code_;
};

// {"error": {"message", "type", "param", "code"}}
nlohmann::json error_body(const std::string& message, const std::string& type, const std::string& param = "",
                          const std::string& code = "");

// --- client side -----------------------------------------------------------

// Images become data URLs (PNG or JPEG per options); logprobs/top_logprobs are always sent explicitly.
nlohmann::json make_chat_request(const OracleRequest& request, const std::string& model, bool stream = false);

// Reads choices[0].message.content (a string or an array of text parts),
// choices[0].logprobs.content and usage. Throws OracleError(kMalformed).
OracleReply parse_chat_response(const std::string& body);

struct ServiceError {
  std::string message;
  std::string type;
  std::string code;
};
// Reads an error body in any of the OpenAI / llama.cpp / vLLM / Ollama shapes;
// falls back to the first 200 bytes of the body.
ServiceError parse_service_error(const std::string& body);

// --- server side -----------------------------------------------------------

struct ChatRequest {
  std::string model;
  std::string prompt;  // the text parts of the last user message, joined by newlines
  std::vector<cv::Mat> images;
  OracleOptions options;
  bool stream = false;
  bool logprobs = false;
};

// Parses and validates a chat-completions body; image parts must be data URLs
// (decoded with `limits`). Throws ProtocolError naming the offending field.
ChatRequest parse_chat_request(const std::string& body, const ImageReadOptions& limits, int max_images = 16);

// A non-streamed chat.completion object.
nlohmann::json completion_body(const OracleReply& reply, const std::string& model, const std::string& id,
                               int64_t created, bool logprobs);
// The SSE "data:" payloads of a streamed reply, ending with "[DONE]".
std::vector<std::string> completion_chunks(const OracleReply& reply, const std::string& model, const std::string& id,
                                           int64_t created, bool logprobs);

// "data:image/png;base64,..." for encoded image bytes.
std::string data_url(const std::vector<uint8_t>& bytes, const std::string& mime);
// Decodes a data URL's bytes; throws ProtocolError (400, param) on a bad URL or bad base64.
std::vector<uint8_t> decode_data_url(const std::string& url, const std::string& param);

}  // namespace scrim::openai
