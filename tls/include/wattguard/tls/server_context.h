// The TLS side of a listener: an Asio SSL context with the server's certificate chain and key, TLS 1.2 and up.
// Thread safety: the context is read-only once made and may serve every connection of the listener.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "wattguard/base/expected.h"

namespace wattguard::tls {

// Which settings name the files, for errors ("blynk.tls_cert_file").
struct ServerFiles {
  std::string certificate_file;
  std::string key_file;
  std::string certificate_setting;
  std::string key_setting;
};

// Errors: kInvalidInput naming the setting and the file, with OpenSSL's reason (missing, not PEM, wrong key).
Expected<std::unique_ptr<boost::asio::ssl::context>> make_server_context(const ServerFiles& files);

}  // namespace wattguard::tls
