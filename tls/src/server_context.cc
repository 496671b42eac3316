// A server's SSL context from PEM files.
#include "wattguard/tls/server_context.h"

namespace wattguard::tls {

namespace ssl = boost::asio::ssl;

Expected<std::unique_ptr<ssl::context>> make_server_context(const ServerFiles& files) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  // TLS 1.0 and 1.1 are broken and every client we serve (ESP32 mbedTLS, browsers, mosquitto) speaks 1.2.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(files.certificate_file, ec);
  if (ec) {
    return Error::invalid(files.certificate_setting, "\"" + files.certificate_file + "\"",
                          "cannot load the certificate: " + ec.message());
  }
  context->use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) {
    return Error::invalid(files.key_setting, "\"" + files.key_file + "\"",
                          "cannot load the private key: " + ec.message());
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Error::invalid(files.key_setting, "\"" + files.key_file + "\"",
                          "is not the key of " + files.certificate_setting + " \"" + files.certificate_file + "\"");
  }
  return context;
}

}  // namespace wattguard::tls
