#include "scrim/serve/oracle_server.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "scrim/core/error.h"
#include "serve/http_common.h"
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

  void handle_completion(const httplib::Request& req, httplib::Response& res) {
    if (inject_fault(res)) return;
    openai::ChatRequest chat;
    try {
      chat = openai::parse_chat_request(req.body, options.image_limits, options.max_images);
    } catch (const openai::ProtocolError& e) {
      send_error(res, e.status(), e.what(), e.type(), e.param(), e.code());
      return;
    }
    if (chat.images.empty()) {
      send_error(res, 400, "this model needs at least one image part", "invalid_request_error", "messages");
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
    std::string id = "chatcmpl-scrim-" + std::to_string(next_id++);
    auto created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (!chat.stream) {
      res.set_content(openai::completion_body(reply, model, id, created, chat.logprobs).dump(), "application/json");
      return;
    }
    auto chunks = std::make_shared<std::vector<std::string>>(openai::completion_chunks(reply, model, id, created, chat.logprobs));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [chunks](size_t, httplib::DataSink& sink) {
      for (const auto& c : *chunks) {
        std::string event = "data: " + c + "\n\n";
        if (!sink.write(event.data(), event.size())) return false;
      }
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
