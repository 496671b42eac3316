// How an MQTT client (the server's ingest and Home Assistant sessions, virtual meters, tests) reaches a broker's
// TLS listener: the broker's certificate is verified against a CA file, TLS 1.2 is the floor.
// Thread safety: free functions; apply_mqtt_client_tls() touches only the client it is given.
#pragma once

#include <string>
#include <string_view>

#include "wattguard/base/expected.h"

struct mosquitto;

namespace wattguard::tls {

struct MqttClientTls {
  bool enabled = false;
  // PEM trust anchors for the broker's certificate: the authority that signed it, or the self-signed certificate
  // itself (`wattguard certs`, the demo). Required when enabled: a client that trusts nothing in particular
  // would take any certificate an attacker shows.
  std::string ca_file;
  // Skips only the check that the certificate names the host connected to; the chain is still verified. For a
  // broker reached by an address its certificate does not list. Never the default.
  bool insecure = false;
};

// Checks the settings once, before any connection: `ca_file` set, readable and holding at least one PEM
// certificate. `setting` names the CA file's setting in errors ("mqtt.ca_file", "--tls-ca").
// Errors: kInvalidInput naming the setting and the file. A disabled `tls` is always fine.
Expected<void> check_mqtt_client_tls(const MqttClientTls& tls, std::string_view setting);

// Makes `client` (not yet connected) use TLS as `tls` says: verify the peer against the CA file (SSL_VERIFY_PEER),
// TLS 1.2 or newer, and the host name unless `insecure`. Nothing for a disabled `tls`.
// REQUIRES: check_mqtt_client_tls(tls) succeeded; `client` is not connected.
// Errors: kInvalidInput with libmosquitto's reason (an unreadable file).
Expected<void> apply_mqtt_client_tls(mosquitto* client, const MqttClientTls& tls);

}  // namespace wattguard::tls
