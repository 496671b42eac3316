// MQTT clients over TLS: the CA file's checks, and against a real Mosquitto TLS listener the host-name check that
// tls_insecure (and only it) turns off, while the chain is checked either way.
#include "wattguard/tls/mqtt_client_tls.h"

#include <gtest/gtest.h>

#include <fstream>

#include "wattguard/broker/broker_process.h"
#include "wattguard/test_support/temp_dir.h"
#include "wattguard/test_support/test_client.h"
#include "wattguard/tls/certificate_files.h"

namespace wattguard::tls {
namespace {

using test_support::TempDir;
using test_support::TestClient;

// A self-signed certificate for `names` written as <dir>/<stem>-cert.pem and -key.pem; returns the certificate.
std::filesystem::path certificate(const TempDir& dir, const std::string& stem, std::vector<std::string> names) {
  SelfSignedRequest request;
  request.names = std::move(names);
  auto pair = make_self_signed(request);
  EXPECT_TRUE(pair.ok());
  const auto cert = dir.path() / (stem + "-cert.pem");
  EXPECT_TRUE(write_certificate_files(pair.value(), cert, dir.path() / (stem + "-key.pem")).ok());
  return cert;
}

TEST(MqttClientTls, ADisabledSettingNeedsNoFile) {
  EXPECT_TRUE(check_mqtt_client_tls(MqttClientTls{}, "mqtt.ca_file").ok());
}

TEST(MqttClientTls, EnabledWithoutAReadablePemCertificateIsRefusedNamingTheSetting) {
  TempDir dir("mqtt-client-tls");
  auto none = check_mqtt_client_tls({true, "", false}, "mqtt.ca_file");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(none.error().field, "mqtt.ca_file");

  auto missing = check_mqtt_client_tls({true, (dir.path() / "nope.pem").string(), false}, "--tls-ca");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "--tls-ca");
  EXPECT_NE(missing.error().message.find("cannot be read"), std::string::npos);

  const auto text = dir.path() / "text.pem";
  std::ofstream(text) << "not a certificate\n";
  auto not_pem = check_mqtt_client_tls({true, text.string(), false}, "mqtt.ca_file");
  ASSERT_FALSE(not_pem.ok());
  EXPECT_NE(not_pem.error().message.find("no PEM certificate"), std::string::npos);

  EXPECT_TRUE(check_mqtt_client_tls({true, certificate(dir, "ok", {"localhost"}).string(), false}, "x").ok());
}

class MqttClientTlsBrokerTest : public ::testing::Test {
 protected:
  // An anonymous broker whose certificate names only `names`.
  void start_broker(std::vector<std::string> names) {
    if (broker::mosquitto_binary().empty()) GTEST_SKIP() << "mosquitto is not installed";
    cert_ = certificate(dir_, "broker", std::move(names));
    auto setup = broker::anonymous_setup(dir_.path() / "broker");
    setup.tls = broker::BrokerTlsListener{0, cert_, dir_.path() / "broker-key.pem", {}};
    auto started = broker::BrokerProcess::start(setup);
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    broker_ = std::move(started).value();
  }

  int connect(const MqttClientTls& tls) {
    TestClient::Options options;
    options.tls = tls;
    TestClient client(broker_->tls_port(), options);
    const int rc = client.connect(3000);
    client.disconnect();
    return rc;
  }

  TempDir dir_{"mqtt-client-tls"};
  std::filesystem::path cert_;
  std::unique_ptr<broker::BrokerProcess> broker_;
};

TEST_F(MqttClientTlsBrokerTest, AClientVerifyingTheBrokerConnectsToTheNameItsCertificateLists) {
  start_broker({"localhost", "127.0.0.1"});
  EXPECT_EQ(connect({true, cert_.string(), false}), 0);
}

TEST_F(MqttClientTlsBrokerTest, ACertificateForAnotherHostIsRefusedUnlessTlsInsecureSkipsTheNameCheck) {
  start_broker({"meters.example.org"});
  EXPECT_NE(connect({true, cert_.string(), false}), 0);  // the test client connects to 127.0.0.1
  EXPECT_EQ(connect({true, cert_.string(), true}), 0);
}

TEST_F(MqttClientTlsBrokerTest, TlsInsecureStillRefusesABrokerFromAnotherAuthority) {
  start_broker({"meters.example.org"});
  const auto other = certificate(dir_, "other", {"meters.example.org"});
  EXPECT_NE(connect({true, other.string(), true}), 0);
}

}  // namespace
}  // namespace wattguard::tls
