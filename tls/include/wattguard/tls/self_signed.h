// Self-signed certificates for a server that has no certificate from an authority yet: the demo's listeners,
// `wattguard certs`, and tests. A client trusts one by its SHA-256 fingerprint (printed) or by the file itself.
// Thread safety: free functions with no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::tls {

// A certificate and its private key, both PEM.
struct CertificatePair {
  std::string certificate_pem;
  std::string private_key_pem;
};

struct SelfSignedRequest {
  std::string common_name = "wattguard";
  // Names the certificate is valid for: host names ("localhost", "meters.example.org") and IP addresses
  // ("127.0.0.1", "::1"); clients check the one they connected to against these.
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  int days = 825;  // the longest validity common clients accept for a server certificate
};

// A P-256 key and an X.509 v3 certificate signed by it: subjectAltName from `names`, serverAuth usage, and
// CA:TRUE so that a client may pin it as its own trust anchor (ESP32 and mosquitto's --cafile do).
// Errors: kInvalidInput for an empty or malformed name or days outside 1..3650; kInternal when OpenSSL fails.
Expected<CertificatePair> make_self_signed(const SelfSignedRequest& request);

// The SHA-256 fingerprint of the first certificate in `certificate_pem`, as "AB:CD:...:EF" (what browsers and
// `openssl x509 -fingerprint -sha256` show). Errors: kInvalidInput when no certificate can be read.
Expected<std::string> certificate_fingerprint(std::string_view certificate_pem);

// The names (DNS and IP) the certificate's subjectAltName holds, in its order.
Expected<std::vector<std::string>> certificate_names(std::string_view certificate_pem);

}  // namespace wattguard::tls
