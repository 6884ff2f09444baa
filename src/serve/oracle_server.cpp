#include "scrim/serve/oracle_server.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "scrim/core/error.h"
#include "serve/http_common.h"
#include "serve/responses_protocol.h"
#include "scrim/oracle/openai_protocol.h"
#include "scrim/oracle/oracle_error.h"

using nlohmann::json;

namespace scrim {

using serve::send_error;

struct OracleServer::Impl {
  std::shared_ptr<Oracle> oracle;
  OracleServerOptions options;
  httplib::Server server;
  int port = 0;
  std::atomic<int64_t> completions{0};
  std::atomic<uint64_t> next_id{1};
  std::atomic<int64_t> fault_calls{0};

  // Returns true when the request was answered by an injected fault.
  bool inject_fault(httplib::Response& res) {
    auto i = static_cast<size_t>(fault_calls++);
    if (i >= options.fault_schedule.size()) return false;
    switch (options.fault_schedule[i]) {
      case Fault::kNone: return false;
      case Fault::kTimeout:
        std::this_thread::sleep_for(std::chrono::duration<double>(options.fault_delay_s));
        return false;  // then answer normally, too late for a short client timeout
      case Fault::kRateLimited:
        char retry[32];
        std::snprintf(retry, sizeof retry, "%g", options.fault_retry_after_s);
        res.set_header("Retry-After", retry);
        send_error(res, 429, "Rate limit reached for requests", "requests", "", "rate_limit_exceeded");
        return true;
      case Fault::kServerError:
        send_error(res, 500, "The server had an error while processing your request", "server_error");
        return true;
      case Fault::kMalformedJson:
        res.set_content("{\"choices\": [{\"message\": oops", "application/json");
        return true;
      case Fault::kTruncatedBody:
      case Fault::kConnectionReset:
        res.set_content(R"({"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"index": 0, "mess)", "application/json");
        return true;
    }
    return false;
  }

  void handle_completion(const httplib::Request& req, httplib::Response& res) { answer(req.body, res, false); }

  // The Responses API asks the same question in another shape: translated to a
  // chat body, answered alike, and written back as a `response`.
  void handle_response(const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
      send_error(res, 400, "request body is not valid JSON", "invalid_request_error");
      return;
    }
    std::string chat_body;
    try {
      chat_body = serve::chat_body_from_responses(body).dump();
    } catch (const openai::ProtocolError& e) {
      send_error(res, e.status(), e.what(), e.type(), e.param(), e.code());
      return;
    }
    answer(chat_body, res, true);
  }

  void answer(const std::string& chat_body, httplib::Response& res, bool responses_api) {
    if (inject_fault(res)) return;
    openai::ChatRequest chat;
    try {
      chat = openai::parse_chat_request(chat_body, options.image_limits, options.max_images);
    } catch (const openai::ProtocolError& e) {
      send_error(res, e.status(), e.what(), e.type(), responses_api ? serve::responses_param(e.param()) : e.param(), e.code());
      return;
    }
    if (chat.images.empty()) {
      send_error(res, 400, "this model needs at least one image part", "invalid_request_error", responses_api ? "input" : "messages");
      return;
    }
    OracleRequest request{chat.images, chat.prompt, chat.options};
    OracleReply reply;
    try {
      reply = oracle->query(request);
    } catch (const OracleError& e) {
      if (e.retry_after_s() >= 0) res.set_header("Retry-After", std::to_string(static_cast<int>(e.retry_after_s() + 0.999)));
      send_error(res, e.status() ? e.status() : 502, e.what(), "upstream_error");
      return;
    }
    ++completions;
    std::string model = chat.model.empty() ? model_name() : chat.model;
    std::string id = (responses_api ? "resp_scrim-" : "chatcmpl-scrim-") + std::to_string(next_id++);
    auto created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (!chat.stream) {
      json body = responses_api ? serve::response_object(reply, model, id, created) : openai::completion_body(reply, model, id, created, chat.logprobs);
      res.set_content(body.dump(), "application/json");
      return;
    }
    // SSE: chat chunks are bare "data:" lines; Responses events are named.
    auto events = std::make_shared<std::vector<std::string>>();
    if (responses_api) {
      for (const auto& [name, data] : serve::response_events(reply, model, id, created)) events->push_back("event: " + name + "\ndata: " + data.dump() + "\n\n");
    } else {
      for (const auto& c : openai::completion_chunks(reply, model, id, created, chat.logprobs)) events->push_back("data: " + c + "\n\n");
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [events](size_t, httplib::DataSink& sink) {
      for (const auto& e : *events)
        if (!sink.write(e.data(), e.size())) return false;
      sink.done();
      return true;
    });
  }

  std::string model_name() const { return options.model_name.empty() ? oracle->model_id() : options.model_name; }
};

OracleServer::OracleServer(std::shared_ptr<Oracle> oracle, OracleServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->oracle = std::move(oracle);
  impl_->options = std::move(options);
  auto& s = impl_->server;
  auto* impl = impl_.get();
  s.set_payload_max_length(impl->options.max_body_bytes);
  s.set_read_timeout(30, 0);
  s.set_write_timeout(30, 0);
  // Clients keep their connections alive (the HTTP backend pools them), and a
  // kept-alive connection holds a worker: enough workers for a client at
  // concurrency 16, and many requests per connection.
  unsigned workers = std::max(16u, 2 * std::max(1u, std::thread::hardware_concurrency()));
  s.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  s.set_keep_alive_max_count(1000);
  s.set_tcp_nodelay(true);
  s.Post("/v1/chat/completions", [impl](const httplib::Request& req, httplib::Response& res) { impl->handle_completion(req, res); });
  s.Post("/v1/responses", [impl](const httplib::Request& req, httplib::Response& res) { impl->handle_response(req, res); });
  s.Get("/v1/models", [impl](const httplib::Request&, httplib::Response& res) {
    json models = {{"object", "list"},
                   {"data", json::array({{{"id", impl->model_name()}, {"object", "model"}, {"created", 0}, {"owned_by", "scrim"}}})}};
    res.set_content(models.dump(), "application/json");
  });
  s.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content(R"({"status":"ok"})", "application/json"); });
  serve::install_error_handlers(s);
}

OracleServer::~OracleServer() { stop(); }

void OracleServer::bind() { impl_->port = serve::bind_server(impl_->server, impl_->options.host, impl_->options.port); }

void OracleServer::serve() { impl_->server.listen_after_bind(); }
void OracleServer::stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}
int OracleServer::port() const { return impl_->port; }
int64_t OracleServer::completions() const { return impl_->completions; }

}  // namespace scrim
