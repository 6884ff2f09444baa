#include "scrim/oracle/openai_protocol.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "scrim/core/base64.h"
#include "scrim/oracle/oracle_error.h"

namespace scrim {

TEST(Base64, RoundTripAndStrictness) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::vector<uint8_t> b(s.begin(), s.end());
    auto enc = base64_encode(b);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.has_value()) << s;
    EXPECT_EQ(*dec, b);
  }
  EXPECT_EQ(base64_encode(std::vector<uint8_t>{'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_FALSE(base64_decode("Zm9v!").has_value());
  EXPECT_FALSE(base64_decode("Z").has_value());
  EXPECT_FALSE(base64_decode("Zg==Zg").has_value());
}

TEST(OpenAiProtocol, ReadsEveryErrorShape) {
  auto openai = openai::parse_service_error(R"({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})");
  EXPECT_EQ(openai.code, "insufficient_quota");
  auto llama = openai::parse_service_error(R"({"error": {"code": 400, "message": "image input is not supported", "type": "invalid_request_error"}})");
  EXPECT_EQ(llama.message, "image input is not supported");
  EXPECT_EQ(llama.code, "400");
  auto vllm = openai::parse_service_error(R"({"object": "error", "message": "model not found", "type": "NotFoundError", "param": null, "code": 404})");
  EXPECT_EQ(vllm.message, "model not found");
  auto ollama = openai::parse_service_error(R"({"error": "model \"llava\" not found, try pulling it first"})");
  EXPECT_NE(ollama.message.find("llava"), std::string::npos);
  auto html = openai::parse_service_error("<html>502 Bad Gateway</html>");
  EXPECT_EQ(html.message, "<html>502 Bad Gateway</html>");
}

TEST(OpenAiProtocol, ParsesRepliesWithPartsAndLogprobs) {
  auto r = openai::parse_chat_response(R"({"choices": [{"message": {"role": "assistant", "content": [{"type": "text", "text": "wav"}, {"type": "text", "text": "ing"}]},
    "logprobs": {"content": [{"token": "wav", "logprob": -0.1, "top_logprobs": [{"token": "wav", "logprob": -0.1}, {"token": "walk", "logprob": -2.5}]}]}}],
    "usage": {"prompt_tokens": 90, "completion_tokens": 2}})");
  EXPECT_EQ(r.text, "waving");
  ASSERT_EQ(r.logprobs.size(), 1u);
  EXPECT_EQ(r.logprobs[0].top[1].token, "walk");
  EXPECT_EQ(r.usage.prompt_tokens, 90);
  try {
    openai::parse_chat_response(R"({"choices": []})");
    FAIL();
  } catch (const OracleError& e) {
    EXPECT_EQ(e.kind(), OracleError::Kind::kMalformed);
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_THROW(openai::parse_chat_response("{trunc"), OracleError);
}

TEST(OpenAiProtocol, RequestsCarryLogprobsExplicitlyAndLosslessImages) {
  OracleRequest req;
  req.images.push_back(cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)));
  req.prompt = "What?";
  req.options.top_logprobs = 0;
  auto body = openai::make_chat_request(req, "m");
  EXPECT_EQ(body["logprobs"], false);
  EXPECT_FALSE(body.contains("top_logprobs"));
  std::string url = body["messages"][0]["content"][1]["image_url"]["url"];
  EXPECT_EQ(url.rfind("data:image/png;base64,", 0), 0u);
  // The server side reads back exactly the same pixels.
  auto parsed = openai::parse_chat_request(body.dump(), {});
  ASSERT_EQ(parsed.images.size(), 1u);
  EXPECT_EQ(cv::norm(parsed.images[0], req.images[0], cv::NORM_INF), 0);
  EXPECT_EQ(parsed.prompt, "What?");
}

TEST(OpenAiProtocol, ServerSideErrorsNameTheField) {
  auto param_of = [](const std::string& body) {
    try {
      openai::parse_chat_request(body, {});
    } catch (const openai::ProtocolError& e) {
      return e.param() + "|" + e.what();
    }
    return std::string("no error");
  };
  EXPECT_NE(param_of("{oops").find("not valid JSON"), std::string::npos);
  EXPECT_NE(param_of(R"({"messages": []})").find("messages|"), std::string::npos);
  EXPECT_NE(param_of(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}]})")
                .find("messages[0].content[0].image_url.url|data URL holds invalid base64"),
            std::string::npos);
  EXPECT_NE(param_of(R"({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]})").find("unsupported content part"),
            std::string::npos);
  std::string png_prefix = base64_encode(std::vector<uint8_t>{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13});
  EXPECT_NE(param_of(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,)" + png_prefix + R"("}}]}]})")
                .find("corrupt PNG header"),
            std::string::npos);
}

}  // namespace scrim
