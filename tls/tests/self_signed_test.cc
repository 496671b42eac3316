// Self-signed certificates: names, validity, fingerprints as openssl prints them, files written privately and
// read back, half pairs and foreign keys refused, and a server context from the files.
#include "wattguard/tls/self_signed.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>

#include "wattguard/test_support/temp_dir.h"
#include "wattguard/tls/certificate_files.h"
#include "wattguard/tls/server_context.h"

namespace wattguard::tls {
namespace {

TEST(SelfSigned, HoldsEveryNameAskedAndIsValidNowForTheDaysAsked) {
  SelfSignedRequest request;
  request.names = {"meters.example.org", "localhost", "10.1.2.3", "::1"};
  request.days = 30;
  auto pair = make_self_signed(request);
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  EXPECT_NE(pair->certificate_pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(pair->private_key_pem.find("PRIVATE KEY-----"), std::string::npos);
  auto names = certificate_names(pair->certificate_pem);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), request.names);

  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pair->certificate_pem.data(), static_cast<int>(pair->certificate_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  ASSERT_TRUE(cert);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
  const time_t in_31_days = time(nullptr) + 31 * 86400;
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(cert.get()), const_cast<time_t*>(&in_31_days)), 0);
  // Self-signed: its own issuer, and its signature checks with its own key.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(X509_get_pubkey(cert.get()), EVP_PKEY_free);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
}

TEST(SelfSigned, FingerprintsAreSha256InColonHexAndDifferBetweenCertificates) {
  auto a = make_self_signed({});
  auto b = make_self_signed({});
  ASSERT_TRUE(a.ok() && b.ok());
  auto fa = certificate_fingerprint(a->certificate_pem);
  auto fb = certificate_fingerprint(b->certificate_pem);
  ASSERT_TRUE(fa.ok() && fb.ok());
  // 32 bytes as "AB:" ... "EF": 95 characters, a colon after every pair but the last.
  ASSERT_EQ(fa->size(), 95u) << fa.value();
  for (std::size_t i = 0; i < fa->size(); ++i) {
    const char c = (*fa)[i];
    if (i % 3 == 2) {
      EXPECT_EQ(c, ':') << fa.value();
    } else {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << fa.value();
    }
  }
  EXPECT_NE(fa.value(), fb.value());
  EXPECT_EQ(certificate_fingerprint(a->certificate_pem).value(), fa.value());
  EXPECT_FALSE(certificate_fingerprint("not a certificate").ok());
}

TEST(SelfSigned, BadNamesAndDaysAreRefusedNamingTheValue) {
  SelfSignedRequest request;
  request.names = {"localhost", "bad name"};
  auto r = make_self_signed(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "names");
  EXPECT_EQ(r.error().value, "\"bad name\"");
  request.names = {};
  EXPECT_FALSE(make_self_signed(request).ok());
  request.names = {"a..b"};
  EXPECT_FALSE(make_self_signed(request).ok());
  request = {};
  request.days = 0;
  r = make_self_signed(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "days");
}

TEST(CertificateFiles, AreMadeOnceKeptPrivateAndReadBackOnTheNextStart) {
  test_support::TempDir dir("tls-files");
  const auto cert = dir.path() / "tls" / "server.crt";
  const auto key = dir.path() / "tls" / "server.key";
  auto first = ensure_self_signed(cert, key, {});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->created);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = ensure_self_signed(cert, key, {});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->pair.certificate_pem, first->pair.certificate_pem);

  auto context = make_server_context({cert.string(), key.string(), "x.cert", "x.key"});
  EXPECT_TRUE(context.ok()) << (context.ok() ? "" : context.error().message);
}

TEST(CertificateFiles, HalfAPairOrAForeignKeyIsRefusedNamingTheFile) {
  test_support::TempDir dir("tls-bad-files");
  const auto cert = dir.path() / "server.crt";
  const auto key = dir.path() / "server.key";
  ASSERT_TRUE(ensure_self_signed(cert, key, {}).ok());
  const std::string own_key = [&] {
    std::ifstream in(key);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  // Another pair's key in place of ours.
  auto other = make_self_signed({});
  ASSERT_TRUE(other.ok());
  std::ofstream(key, std::ios::trunc) << other->private_key_pem;
  auto read = read_certificate_files(cert, key);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("is not the key of the certificate"), std::string::npos) << read.error().message;
  auto context = make_server_context({cert.string(), key.string(), "blynk.tls_cert_file", "blynk.tls_key_file"});
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.error().field, "blynk.tls_key_file");
  // A missing key with the certificate present: never silently replaced.
  std::filesystem::remove(key);
  auto half = ensure_self_signed(cert, key, {});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("missing while its pair exists"), std::string::npos);
  EXPECT_FALSE(own_key.empty());
  // Not PEM at all.
  std::ofstream(key, std::ios::trunc) << "garbage";
  EXPECT_FALSE(read_certificate_files(cert, key).ok());
  context = make_server_context({(dir.path() / "none.crt").string(), key.string(), "c", "k"});
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.error().field, "c");
}

}  // namespace
}  // namespace wattguard::tls
