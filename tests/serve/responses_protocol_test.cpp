// The reference server's Responses API: requests translated to chat bodies,
// errors named by their Responses field, replies in the `response` shape.
#include "serve/responses_protocol.h"

#include <gtest/gtest.h>

#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {

TEST(ResponsesProtocol, InputItemsBecomeChatMessagesWithTheSameIndices) {
  json body = {{"model", "tiny"},
               {"stream", true},
               {"max_output_tokens", 7},
               {"instructions", "Be brief."},
               {"input", json::array({{{"role", "user"}, {"content", "first"}},
                                      {{"type", "message"}, {"role", "assistant"}, {"content", json::array({{{"type", "output_text"}, {"text", "ok"}}})}},
                                      {{"role", "user"},
                                       {"content", json::array({{{"type", "input_text"}, {"text", "What is it?"}},
                                                                {{"type", "input_image"}, {"image_url", "data:image/png;base64,AAAA"}}})}}})}};
  json chat = chat_body_from_responses(body);
  EXPECT_EQ(chat["model"], "tiny");
  EXPECT_EQ(chat["stream"], true);
  EXPECT_EQ(chat["max_tokens"], 7);
  EXPECT_FALSE(chat.contains("instructions"));
  ASSERT_EQ(chat["messages"].size(), 3u);
  EXPECT_EQ(chat["messages"][0], (json{{"role", "user"}, {"content", "first"}}));
  EXPECT_EQ(chat["messages"][1]["content"][0], (json{{"type", "text"}, {"text", "ok"}}));
  EXPECT_EQ(chat["messages"][2]["content"][1], (json{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}}));
  EXPECT_EQ(chat_body_from_responses({{"input", "hello"}})["messages"], json::array({{{"role", "user"}, {"content", "hello"}}}));
}

TEST(ResponsesProtocol, RefusesShapesItCannotAnswerNamingTheField) {
  auto param_of = [](const json& body) {
    try {
      chat_body_from_responses(body);
    } catch (const openai::ProtocolError& e) {
      EXPECT_EQ(e.status(), 400);
      return e.param();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(param_of({{"model", "x"}}), "input");
  EXPECT_EQ(param_of({{"input", 3}}), "input");
  EXPECT_EQ(param_of({{"input", json::array({{{"type", "function_call"}, {"name", "f"}}})}}), "input[0].type");
  EXPECT_EQ(param_of({{"input", json::array({{{"content", "no role"}}})}}), "input[0].role");
  EXPECT_EQ(param_of({{"input", json::array({{{"role", "user"}, {"content", json::array({{{"type", "input_image"}, {"file_id", "f"}}})}}})}}),
            "input[0].content[0]");
  EXPECT_EQ(param_of({{"input", json::array({{{"role", "user"}, {"content", json::array({{{"type", "input_text"}, {"text", 5}}})}}})}}),
            "input[0].content[0]");
  EXPECT_EQ(responses_param("messages[2].content[1].image_url.url"), "input[2].content[1].image_url");
  EXPECT_EQ(responses_param("model"), "model");
}

TEST(ResponsesProtocol, ReplyIsAResponseWithOneOutputTextAndItsEvents) {
  OracleReply reply;
  reply.text = "two";
  reply.usage.prompt_tokens = 5;
  reply.usage.completion_tokens = 1;
  json r = response_object(reply, "tiny", "resp_1", 100);
  EXPECT_EQ(r["object"], "response");
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["output"][0]["role"], "assistant");
  EXPECT_EQ(r["output"][0]["content"][0], (json{{"type", "output_text"}, {"text", "two"}, {"annotations", json::array()}}));
  EXPECT_EQ(r["usage"]["total_tokens"], 6);
  auto events = response_events(reply, "tiny", "resp_1", 100);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().first, "response.created");
  EXPECT_EQ(events.back().first, "response.completed");
  EXPECT_EQ(events.back().second["response"], r);
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].second["type"], events[i].first);
    EXPECT_EQ(events[i].second["sequence_number"], i);
    if (events[i].first == "response.output_text.delta") text += events[i].second["delta"].get<std::string>();
  }
  EXPECT_EQ(text, "two");
}

}  // namespace scrim::serve
