// The server side of the OpenAI Responses API (POST /v1/responses) for the
// reference server: a request becomes the chat-completions body that asks the
// same, and a reply becomes a `response` object or its SSE events. Lets the
// proxy's Responses path be tried offline end to end. Private header.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "scrim/oracle/oracle.h"

namespace scrim::serve {

// `input` (a string, or message items whose content is a string or
// input_text / input_image / output_text parts; image_url a data URL) as chat
// `messages` with the same indices; `instructions` is dropped (the reference
// model reads only the last user message); model, stream, temperature and
// max_output_tokens carried over. Throws openai::ProtocolError naming the
// Responses field for other shapes (non-message items, file_id images).
nlohmann::json chat_body_from_responses(const nlohmann::json& body);

// A chat-side error parameter ("messages[0].content[1].image_url.url") named
// as the Responses field it came from ("input[0].content[1].image_url").
std::string responses_param(const std::string& chat_param);

// A completed `response` object with one assistant message of one output_text part.
nlohmann::json response_object(const OracleReply& reply, const std::string& model, const std::string& id, int64_t created);

// The streamed form: (event name, data) pairs from response.created to response.completed.
std::vector<std::pair<std::string, nlohmann::json>> response_events(const OracleReply& reply, const std::string& model,
                                                                    const std::string& id, int64_t created);

}  // namespace scrim::serve
