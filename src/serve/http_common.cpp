#include "serve/http_common.h"

#include <sys/socket.h>

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
    send_error(res, 500, "internal error", "server_error");  // details stay in the server's log
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path, "invalid_request_error", "", "not_found");
    else if (res.status == 413) send_error(res, 413, "request body too large", "invalid_request_error", "", "body_too_large");
    else send_error(res, res.status, "HTTP " + std::to_string(res.status), "invalid_request_error");
  });
}

int bind_server(httplib::Server& server, const std::string& host, int port) {
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of more connects than
  // that (a client at concurrency 8, each request on a new connection) overflows
  // it, the kernel drops the extra SYNs, and those clients wait out TCP's 1 s
  // retransmission. Linux lets listen() on a listening socket raise its backlog,
  // so the bound socket is remembered and listened on again.
  //
  // The port is bound exclusively: cpp-httplib's default options add
  // SO_REUSEPORT, which let a second server (say, an unprotecting proxy) bind
  // the same port and take half the connections.
  socket_t listening = INVALID_SOCKET;
  server.set_socket_options([&listening](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));  // restart over TIME_WAIT; no second listener on Linux
    listening = sock;
  });
  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host.c_str());
    if (bound <= 0) bound = -1;
  } else if (!server.bind_to_port(host.c_str(), port)) {
    bound = -1;
  }
  server.set_socket_options([](socket_t sock) {  // the lambda above must not outlive this call
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (bound < 0) throw Error(port == 0 ? "cannot bind to " + host : "cannot bind to " + host + ":" + std::to_string(port) + " (address in use or not available)");
  if (listening != INVALID_SOCKET && ::listen(listening, SOMAXCONN) != 0)
    spdlog::warn("could not raise the listen backlog of {}:{}; bursts of connections may wait 1 s", host, bound);
  return bound;
}

}  // namespace scrim::serve
