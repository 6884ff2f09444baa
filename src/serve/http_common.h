// What scrim's two HTTP servers (the reference server and the privacy proxy)
// share: OpenAI-shaped error responses, the handlers that turn exceptions,
// 404s and 413s into them, and binding. Private header: cpp-httplib inside.
#pragma once

#include <string>

#include <httplib.h>

namespace scrim::serve {

// Sets status and an OpenAI-shaped JSON error body.
void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                const std::string& param = "", const std::string& code = "");

// Exceptions -> 500, unknown routes -> 404, oversized bodies -> 413, all as OpenAI errors.
void install_error_handlers(httplib::Server& server);

// Binds host:port (port 0: any free port) and returns the port; throws scrim::Error when taken.
int bind_server(httplib::Server& server, const std::string& host, int port);

}  // namespace scrim::serve
