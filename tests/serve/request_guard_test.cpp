// The proxy's request path from raw bytes to the forwarded body: bounded
// parsing, and the deny-by-default scan that refuses every image-looking value
// the walker did not protect (the smuggling shapes of issue 19).
#include "serve/request_guard.h"

#include <gtest/gtest.h>

#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {
namespace {

const std::string kRawPng = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const std::string kBareBase64Png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const std::string kProtected = "data:image/png;base64,UFJPVEVDVEVE";

// Rewrites every image to kProtected; returns "forwarded:<payload>" or "refused:<param>".
std::string run(const std::string& body, Api api, std::set<std::string> allow = {}) {
  GuardOptions options;
  options.parts.allow_unprotected = std::move(allow);
  try {
    auto g = guard_request(body, api, [](const std::string&, const std::string&) { return kProtected; }, options);
    return "forwarded:" + g.payload;
  } catch (const openai::ProtocolError& e) {
    return "refused:" + e.param();
  }
}

std::string chat_with(const json& part) {
  return json{{"model", "m"}, {"messages", json::array({{{"role", "user"}, {"content", json::array({part})}}})}}.dump();
}

}  // namespace

TEST(RequestGuard, DeepNestingIsA400NotACrash) {
  std::string body = R"({"model":"x","messages":[],"extra":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  GuardOptions options;
  auto rewrite = [](const std::string&, const std::string&) { return kProtected; };
  try {
    guard_request(body, Api::kChatCompletions, rewrite, options);
    FAIL() << "accepted a body nested 100,000 deep";
  } catch (const openai::ProtocolError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("nests deeper"), std::string::npos) << e.what();
  }
  // Ordinary requests stay well inside the limit.
  EXPECT_EQ(run(chat_with({{"type", "text"}, {"text", "hi"}}), Api::kChatCompletions).rfind("forwarded:", 0), 0u);
}

TEST(RequestGuard, SmuggledImagesAreRefusedWhereverTheyHide) {
  const std::string chat_refusals[] = {
      // a text part carrying an image_url key
      chat_with({{"type", "text"}, {"text", "hi"}, {"image_url", {{"url", kRawPng}}}}),
      // duplicate "type" keys: the parser keeps the last one
      R"({"messages":[{"role":"user","content":[{"type":"image_url","type":"text","text":"x","image_url":{"url":")" + kRawPng + R"("}}]}]})",
      // a data URL in the text itself, and outside any message
      chat_with({{"type", "text"}, {"text", "look: " + kRawPng}}),
      json{{"messages", json::array()}, {"metadata", {{"thumb", kRawPng}}}}.dump(),
      // bare base64 image bytes (Anthropic-style source) under any key
      json{{"messages", json::array({{{"role", "user"}, {"content", "hi"}, {"attachment", kBareBase64Png}}})}}.dump(),
      // a remote image URL the proxy never fetched
      chat_with({{"type", "text"}, {"text", "x"}, {"image_url", "https://example.com/face.png"}}),
  };
  for (const auto& body : chat_refusals) EXPECT_EQ(run(body, Api::kChatCompletions).rfind("refused:", 0), 0u) << body.substr(0, 160);

  const json responses_refusals[] = {
      // an input_image item that also has content
      {{"input", json::array({{{"type", "input_image"}, {"image_url", kRawPng}, {"content", json::array({{{"type", "input_image"}, {"image_url", kRawPng}}})}}})}},
      // a message with an extra image_url
      {{"input", json::array({{{"role", "user"}, {"content", "hi"}, {"image_url", kRawPng}}})}},
      // messages / instructions arrays the Responses API does not define
      {{"input", "hi"}, {"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}, {"image_url", kRawPng}}})}}})}},
      {{"input", "hi"}, {"instructions", json::array({kRawPng})}},
  };
  for (const auto& body : responses_refusals) EXPECT_EQ(run(body.dump(), Api::kResponses).rfind("refused:", 0), 0u) << body.dump().substr(0, 160);
}

TEST(RequestGuard, OnlyTheNamedUnprotectedPartTypesPassAndAreCounted) {
  std::string anthropic = chat_with({{"type", "image"}, {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", kBareBase64Png}}}});
  EXPECT_EQ(run(anthropic, Api::kChatCompletions), "refused:messages[0].content[0]");
  EXPECT_EQ(run(anthropic, Api::kChatCompletions, {"input_audio"}), "refused:messages[0].content[0]");
  GuardOptions options;
  options.parts.allow_unprotected = {"image"};
  auto g = guard_request(anthropic, Api::kChatCompletions, [](const std::string&, const std::string&) { return kProtected; }, options);
  ASSERT_EQ(g.counts.unprotected.size(), 1u);
  EXPECT_EQ(g.counts.unprotected[0].type, "image");
  EXPECT_EQ(g.counts.unprotected[0].param, "messages[0].content[0]");
}

TEST(RequestGuard, ProtectedImagesAndOrdinaryTextPass) {
  std::string out = run(chat_with({{"type", "image_url"}, {"image_url", {{"url", kRawPng}}}}), Api::kChatCompletions);
  ASSERT_EQ(out.rfind("forwarded:", 0), 0u) << out;
  EXPECT_EQ(out.find("iVBORw0KGgo"), std::string::npos);  // the raw image is gone
  EXPECT_NE(out.find(kProtected), std::string::npos);
  // Prose that mentions data or links, and ids that happen to be base64, are not images.
  EXPECT_EQ(run(chat_with({{"type", "text"}, {"text", "Data: the results, see https://example.com/report"}}), Api::kChatCompletions).rfind("forwarded:", 0), 0u);
  EXPECT_EQ(run(json{{"messages", json::array({{{"role", "user"}, {"content", "hi"}, {"name", "QWxhZGRpbjpvcGVuIHNlc2FtZQ"}}})}}.dump(),
                Api::kChatCompletions)
                .rfind("forwarded:", 0),
            0u);
}

TEST(RequestGuard, ImageSignaturesAreRecognisedInBase64) {
  EXPECT_TRUE(looks_like_image_data(kBareBase64Png));
  EXPECT_TRUE(looks_like_image_data("/9j/4AAQSkZJRgABAQAAAQABAAD"));  // JPEG
  EXPECT_TRUE(looks_like_image_data("  data:image/jpeg;base64,AAAA"));
  EXPECT_FALSE(looks_like_image_data("data: see the table below, row 3"));
  EXPECT_FALSE(looks_like_image_data("hello world, nothing to see"));
}

}  // namespace scrim::serve
