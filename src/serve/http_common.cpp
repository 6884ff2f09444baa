#include "serve/http_common.h"

#include <spdlog/spdlog.h>

#include "scrim/core/error.h"
#include "scrim/oracle/openai_protocol.h"

namespace scrim::serve {

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type, const std::string& param,
                const std::string& code) {
  res.status = status;
  res.set_content(openai::error_body(message, type, param, code).dump(), "application/json");
}

void install_error_handlers(httplib::Server& s) {
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = one_line(e.what());
    } catch (...) {
    }
    spdlog::error("request failed: {}", what);
    send_error(res, 500, what, "server_error");
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path, "invalid_request_error", "", "not_found");
    else if (res.status == 413) send_error(res, 413, "request body too large", "invalid_request_error", "", "body_too_large");
    else send_error(res, res.status, "HTTP " + std::to_string(res.status), "invalid_request_error");
  });
}

int bind_server(httplib::Server& server, const std::string& host, int port) {
  if (port == 0) {
    int p = server.bind_to_any_port(host.c_str());
    if (p <= 0) throw Error("cannot bind to " + host);
    return p;
  }
  if (!server.bind_to_port(host.c_str(), port)) throw Error("cannot bind to " + host + ":" + std::to_string(port) + " (in use?)");
  return port;
}

}  // namespace scrim::serve
