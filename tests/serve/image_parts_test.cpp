#include "serve/image_parts.h"

#include <set>

#include <gtest/gtest.h>

#include "scrim/oracle/openai_protocol.h"

using nlohmann::json;

namespace scrim::serve {
namespace {

std::string param_of_refusal(json body, bool responses, std::set<std::string> allow = {}) {
  try {
    auto rw = [](const std::string&, const std::string&) { return std::string("data:image/png;base64,AAAA"); };
    PartPolicy policy{std::move(allow), 2};
    if (responses) rewrite_responses_images(body, rw, policy);
    else rewrite_chat_images(body, rw, policy);
  } catch (const openai::ProtocolError& e) {
    return e.param();
  }
  return "accepted";
}

}  // namespace

TEST(ImageParts, RewritesEveryImageAndLeavesTextAlone) {
  json body = {{"messages", json::array({{{"role", "system"}, {"content", "be brief"}},
                                         {{"role", "user"},
                                          {"content", json::array({{{"type", "text"}, {"text", "hi"}},
                                                                   {{"type", "image_url"}, {"image_url", {{"url", "data:a"}, {"detail", "low"}}}},
                                                                   {{"type", "image_url"}, {"image_url", "data:b"}}})}}})}};
  std::vector<std::string> seen;
  auto counts = rewrite_chat_images(body, [&](const std::string& url, const std::string& param) {
    seen.push_back(url + "@" + param);
    return "data:protected";
  }, PartPolicy{{}, 4});
  EXPECT_EQ(counts.images, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"data:a@messages[1].content[1].image_url.url", "data:b@messages[1].content[2].image_url.url"}));
  EXPECT_EQ(body["messages"][1]["content"][1]["image_url"]["url"], "data:protected");
  EXPECT_EQ(body["messages"][1]["content"][1]["image_url"]["detail"], "low");
  EXPECT_EQ(body["messages"][1]["content"][2]["image_url"], "data:protected");
  EXPECT_EQ(body["messages"][1]["content"][0]["text"], "hi");
  EXPECT_EQ(body["messages"][0]["content"], "be brief");
}

TEST(ImageParts, RefusesWhatItCannotProtect) {
  json audio = {{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "input_audio"}}})}}})}};
  EXPECT_EQ(param_of_refusal(audio, false), "messages[0].content[0]");
  EXPECT_EQ(param_of_refusal(audio, false, {"input_audio"}), "accepted");
  EXPECT_EQ(param_of_refusal(audio, false, {"file"}), "messages[0].content[0]");  // only the named types pass
  json file = {{"input", json::array({{{"role", "user"}, {"content", json::array({{{"type", "input_file"}, {"file_id", "f"}}})}}})}};
  EXPECT_EQ(param_of_refusal(file, true), "input[0].content[0]");
  json by_id = {{"input", json::array({{{"role", "user"}, {"content", json::array({{{"type", "input_image"}, {"file_id", "f"}}})}}})}};
  EXPECT_EQ(param_of_refusal(by_id, true), "input[0].content[0]");  // an uploaded image cannot be inspected
  json many = {{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}, {"image_url", "a"}},
                                                                                   {{"type", "image_url"}, {"image_url", "b"}},
                                                                                   {{"type", "image_url"}, {"image_url", "c"}}})}}})}};
  EXPECT_EQ(param_of_refusal(many, false), "messages[0].content[2]");
  EXPECT_EQ(param_of_refusal(json::array(), false), "");
  EXPECT_EQ(param_of_refusal(json{{"messages", 3}}, false), "messages");
  json untyped = {{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"image_url", "a"}}})}}})}};
  EXPECT_EQ(param_of_refusal(untyped, false), "messages[0].content[0]");
}

TEST(ImageParts, TextOnlyResponsesItemsPassAndToolScreenshotsAreProtected) {
  json tools = {{"input", json::array({{{"type", "function_call"}, {"call_id", "c"}, {"name", "f"}, {"arguments", "{}"}},
                                       {{"type", "function_call_output"}, {"call_id", "c"}, {"output", "42"}},
                                       {{"type", "reasoning"}, {"summary", json::array()}},
                                       {{"type", "item_reference"}, {"id", "msg_1"}},
                                       {{"role", "user"}, {"content", "thanks"}}})}};
  EXPECT_EQ(param_of_refusal(tools, true), "accepted");
  json screenshot = {{"input", json::array({{{"type", "computer_call_output"}, {"call_id", "c"},
                                             {"output", {{"type", "computer_screenshot"}, {"image_url", "data:raw"}}}}})}};
  std::vector<std::string> seen;
  rewrite_responses_images(screenshot, [&](const std::string& url, const std::string& param) {
    seen.push_back(url + "@" + param);
    return "data:protected";
  }, PartPolicy{});
  EXPECT_EQ(seen, (std::vector<std::string>{"data:raw@input[0].output.image_url"}));
  EXPECT_EQ(screenshot["input"][0]["output"]["image_url"], "data:protected");
  json unknown = {{"input", json::array({{{"type", "something_new"}, {"payload", "x"}}})}};
  EXPECT_EQ(param_of_refusal(unknown, true), "input[0]");
}

}  // namespace scrim::serve
