// MQTT clients over TLS: the settings checked once, then applied to each libmosquitto client.
#include "wattguard/tls/mqtt_client_tls.h"

#include <mosquitto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace wattguard::tls {
namespace {

// The quoted value errors show for a file.
std::string quoted(const std::string& text) { return "\"" + text + "\""; }

}  // namespace

Expected<void> check_mqtt_client_tls(const MqttClientTls& tls, std::string_view setting) {
  if (!tls.enabled) return {};
  const std::string name(setting);
  if (tls.ca_file.empty()) {
    return Error::invalid(name, "", "MQTT over TLS needs the CA file that signed the broker's certificate");
  }
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(tls.ca_file.c_str(), "rb"), &std::fclose);
  if (!file) return Error::invalid(name, quoted(tls.ca_file), "cannot be read");
  // libmosquitto would only find out at the first connection, and then say no more than "TLS error".
  std::unique_ptr<X509, decltype(&X509_free)> first(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), X509_free);
  if (!first) return Error::invalid(name, quoted(tls.ca_file), "holds no PEM certificate");
  return {};
}

Expected<void> apply_mqtt_client_tls(mosquitto* client, const MqttClientTls& tls) {
  if (!tls.enabled) return {};
  // A null pw_callback: our key files are never encrypted, and no client certificate is sent.
  int rc = mosquitto_tls_set(client, tls.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error::invalid("ca_file", quoted(tls.ca_file),
                          std::string("refused by libmosquitto: ") + mosquitto_strerror(rc));
  }
  // cert_reqs 1 is SSL_VERIFY_PEER: the handshake fails unless the broker's chain ends in the CA file.
  rc = mosquitto_tls_opts_set(client, SSL_VERIFY_PEER, "tlsv1.2", nullptr);
  if (rc != MOSQ_ERR_SUCCESS) return Error::internal(std::string("mosquitto_tls_opts_set: ") + mosquitto_strerror(rc));
  rc = mosquitto_tls_insecure_set(client, tls.insecure);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error::internal(std::string("mosquitto_tls_insecure_set: ") + mosquitto_strerror(rc));
  }
  return {};
}

}  // namespace wattguard::tls
