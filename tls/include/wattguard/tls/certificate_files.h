// A listener's certificate and key as files: made once when missing (the demo, `wattguard certs`), read back
// on every later start so that clients which pinned the certificate keep trusting it.
// Thread safety: free functions; two processes making the same pair at once each leave a whole pair.
#pragma once

#include <filesystem>

#include "wattguard/tls/self_signed.h"

namespace wattguard::tls {

// Writes the certificate (mode 0644) and the key (0600), each replaced whole (write_file_atomically).
Expected<void> write_certificate_files(const CertificatePair& pair, const std::filesystem::path& certificate_file,
                                       const std::filesystem::path& key_file);

// Reads both PEM files and checks that the key belongs to the certificate.
// Errors: kNotFound when a file is missing, kInvalidInput with the file as source when it holds no PEM or the
// two do not belong together.
Expected<CertificatePair> read_certificate_files(const std::filesystem::path& certificate_file,
                                                 const std::filesystem::path& key_file);

struct EnsuredPair {
  CertificatePair pair;
  bool created = false;  // made now, not read
};

// The pair in the two files, made from `request` first when neither exists. One file without the other is an
// error (kInvalidInput): replacing half a pair would break whatever pinned the old certificate.
Expected<EnsuredPair> ensure_self_signed(const std::filesystem::path& certificate_file,
                                         const std::filesystem::path& key_file, const SelfSignedRequest& request);

}  // namespace wattguard::tls
