// Self-signed certificates with OpenSSL 3: key, certificate, extensions, fingerprint.
#include "wattguard/tls/self_signed.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdio>
#include <memory>

namespace wattguard::tls {
namespace {

template <typename T, void (*kFree)(T*)>
struct Deleter {
  void operator()(T* p) const { kFree(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

bool is_ip_address(const std::string& name) {
  std::array<unsigned char, 16> buffer{};
  return inet_pton(AF_INET, name.c_str(), buffer.data()) == 1 || inet_pton(AF_INET6, name.c_str(), buffer.data()) == 1;
}

// A host name as RFC 1123 allows, with a leading "*." for a wildcard.
bool is_host_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = name.rfind("*.", 0) == 0 ? 2 : 0;
  std::size_t label = 0;
  for (std::size_t i = start; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Expected<CertPtr> read_certificate(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return Error::invalid("certificate", "", "no PEM certificate could be read");
  return cert;
}

Expected<void> add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return Error::internal("OpenSSL refused the extension " + value);
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) return Error::internal("OpenSSL could not add the extension " + value);
  return {};
}

}  // namespace

Expected<CertificatePair> make_self_signed(const SelfSignedRequest& request) {
  if (request.days < 1 || request.days > 3650) {
    return Error::invalid("days", std::to_string(request.days), "must be between 1 and 3650");
  }
  if (request.names.empty()) return Error::invalid("names", "", "a certificate needs at least one name");
  std::string alt_names;
  for (const std::string& name : request.names) {
    std::string entry;
    if (is_ip_address(name)) {
      entry = "IP:" + name;
    } else if (is_host_name(name)) {
      entry = "DNS:" + name;
    } else {
      return Error::invalid("names", "\"" + name + "\"", "not a host name or an IP address");
    }
    alt_names += (alt_names.empty() ? "" : ",") + entry;
  }
  if (request.common_name.empty() || request.common_name.size() > 64) {
    return Error::invalid("common_name", "\"" + request.common_name + "\"", "must be 1 to 64 characters");
  }

  KeyPtr key(EVP_EC_gen("P-256"));
  CertPtr cert(X509_new());
  if (!key || !cert) return Error::internal("OpenSSL could not make a key");
  // A random 159-bit serial: clients that cached an earlier certificate of the same name must not confuse them.
  std::array<unsigned char, 20> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) {
    return Error::internal("no random bytes for the serial");
  }
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> serial_bn(
      BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!serial_bn || BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Error::internal("OpenSSL could not set the serial");
  }
  X509_set_version(cert.get(), 2);
  // An hour's slack for clients whose clocks lag (a meter that just synchronised with NTP).
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), long{request.days} * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  for (const auto& [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, alt_names},
                                   {NID_basic_constraints, "critical,CA:TRUE"},
                                   {NID_key_usage, "critical,digitalSignature,keyCertSign"},
                                   {NID_ext_key_usage, "serverAuth"},
                                   {NID_subject_key_identifier, "hash"}}) {
    if (auto added = add_extension(cert.get(), nid, value); !added.ok()) return std::move(added).error();
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return Error::internal("OpenSSL could not sign");

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Error::internal("OpenSSL could not write PEM");
  }
  return CertificatePair{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

Expected<std::string> certificate_fingerprint(std::string_view certificate_pem) {
  auto cert = read_certificate(certificate_pem);
  if (!cert.ok()) return std::move(cert).error();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(cert->get(), EVP_sha256(), digest.data(), &length) != 1) {
    return Error::internal("OpenSSL could not hash the certificate");
  }
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    std::array<char, 4> hex{};
    std::snprintf(hex.data(), hex.size(), "%02X", digest[i]);
    out += (i == 0 ? "" : ":") + std::string(hex.data(), 2);
  }
  return out;
}

Expected<std::vector<std::string>> certificate_names(std::string_view certificate_pem) {
  auto cert = read_certificate(certificate_pem);
  if (!cert.ok()) return std::move(cert).error();
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
      std::array<char, INET6_ADDRSTRLEN> text{};
      if (inet_ntop(family, ASN1_STRING_get0_data(ip), text.data(), text.size()) != nullptr) {
        out.emplace_back(text.data());
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace wattguard::tls
