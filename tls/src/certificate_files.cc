// Certificate and key files: written privately, read back and matched.
#include "wattguard/tls/certificate_files.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "wattguard/base/file_write.h"

namespace wattguard::tls {
namespace fs = std::filesystem;

namespace {

Expected<std::string> read_text(const fs::path& path, const char* what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Error::not_found(std::string(what) + " " + path.string() + " does not exist");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return Error::io("cannot read " + path.string());
  return text.str();
}

// Whether the private key in `key_pem` is the one the certificate's public key belongs to.
Expected<void> check_match(const CertificatePair& pair, const fs::path& certificate_file, const fs::path& key_file) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(pair.certificate_pem.data(), static_cast<int>(pair.certificate_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
  if (!cert) return Error::invalid("", "", "holds no PEM certificate").at(certificate_file.string());
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(pair.private_key_pem.data(), static_cast<int>(pair.private_key_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
  if (!key) return Error::invalid("", "", "holds no unencrypted PEM private key").at(key_file.string());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Error::invalid("", "", "is not the key of the certificate in " + certificate_file.string())
        .at(key_file.string());
  }
  return {};
}

}  // namespace

Expected<void> write_certificate_files(const CertificatePair& pair, const fs::path& certificate_file,
                                       const fs::path& key_file) {
  // The key first: a certificate on disk without its key would be read as half a pair.
  if (auto key = write_file_atomically(key_file, pair.private_key_pem, 0600); !key.ok()) return key;
  return write_file_atomically(certificate_file, pair.certificate_pem, 0644);
}

Expected<CertificatePair> read_certificate_files(const fs::path& certificate_file, const fs::path& key_file) {
  auto cert = read_text(certificate_file, "certificate file");
  if (!cert.ok()) return std::move(cert).error();
  auto key = read_text(key_file, "key file");
  if (!key.ok()) return std::move(key).error();
  CertificatePair pair{std::move(cert).value(), std::move(key).value()};
  if (auto match = check_match(pair, certificate_file, key_file); !match.ok()) return std::move(match).error();
  return pair;
}

Expected<EnsuredPair> ensure_self_signed(const fs::path& certificate_file, const fs::path& key_file,
                                         const SelfSignedRequest& request) {
  std::error_code ec;
  const bool have_cert = fs::exists(certificate_file, ec);
  const bool have_key = fs::exists(key_file, ec);
  if (have_cert != have_key) {
    const fs::path& missing = have_cert ? key_file : certificate_file;
    return Error::invalid("", "", "is missing while its pair exists; restore it or remove both").at(missing.string());
  }
  if (have_cert) {
    auto pair = read_certificate_files(certificate_file, key_file);
    if (!pair.ok()) return std::move(pair).error();
    return EnsuredPair{std::move(pair).value(), false};
  }
  auto made = make_self_signed(request);
  if (!made.ok()) return std::move(made).error();
  if (auto written = write_certificate_files(*made, certificate_file, key_file); !written.ok()) {
    return std::move(written).error();
  }
  return EnsuredPair{std::move(made).value(), true};
}

}  // namespace wattguard::tls
