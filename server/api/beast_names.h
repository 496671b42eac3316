// Short names for Boost.Beast and Asio, for the network layer (http_server.cc) and the tests that talk to it
// over real sockets. Include only where Beast is already needed: it is slow to compile.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace wattguard::beast_names {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using Tcp = net::ip::tcp;

}  // namespace wattguard::beast_names
