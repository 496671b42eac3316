// `wattguard certs`: a self-signed certificate and key for the server's TLS listeners (Blynk's tls_port, and any
// listener configured with tls_cert_file/tls_key_file), kept across runs, with the fingerprint clients pin.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "wattguard/tls/certificate_files.h"

namespace wattguard::cli {
namespace {

namespace fs = std::filesystem;

struct CertsArgs {
  std::string dir = "./data/tls";  // beside the database of storage.data_dir's default
  std::vector<std::string> names;
  int days = 825;
  bool renew = false;
};

// A refused request in the words of the options: `--name "bad name": not a host name or an IP address`.
Error option_error(Error e) {
  if (e.field != "names" && e.field != "days") {
    std::string text = e.to_string();
    return as_bad_input(std::move(e), std::move(text));
  }
  const std::string option = e.field == "days" ? "--days" : "--name";
  std::string message = option + (e.value.empty() ? "" : " " + e.value) + ": " + e.message;
  return as_bad_input(std::move(e), std::move(message));
}

Expected<int> run_certs(const CertsArgs& args) {
  const fs::path cert = fs::path(args.dir) / "server.crt";
  const fs::path key = fs::path(args.dir) / "server.key";
  tls::SelfSignedRequest request;
  if (!args.names.empty()) request.names = args.names;
  request.days = args.days;
  if (args.renew) {
    // Checked before anything is removed: a bad name must not cost the working pair.
    auto made = tls::make_self_signed(request);
    if (!made.ok()) return option_error(std::move(made).error());
    if (auto written = tls::write_certificate_files(*made, cert, key); !written.ok()) return std::move(written).error();
  }
  auto pair = tls::ensure_self_signed(cert, key, request);
  if (!pair.ok()) return option_error(std::move(pair).error());
  auto fingerprint = tls::certificate_fingerprint(pair->pair.certificate_pem);
  if (!fingerprint.ok()) return std::move(fingerprint).error();
  auto names = tls::certificate_names(pair->pair.certificate_pem);
  std::string joined;
  for (const auto& n : names.ok() ? names.value() : std::vector<std::string>{})
    joined += (joined.empty() ? "" : ", ") + n;
  const bool made_now = pair->created || args.renew;
  std::printf("%s %s\n", made_now ? "made" : "kept", cert.c_str());
  std::printf("key         %s (mode 0600)\n", key.c_str());
  std::printf("names       %s\n", joined.c_str());
  std::printf("sha256      %s\n", fingerprint->c_str());
  if (!made_now && !args.names.empty()) {
    std::fputs("wattguard: note: the existing certificate was kept; --renew makes one with the names given\n", stderr);
  }
  return 0;
}

void add_certs_command(CLI::App& app) {
  auto args = std::make_shared<CertsArgs>();
  auto* certs = app.add_subcommand(
      "certs",
      "Make (once) a self-signed certificate and key for the server's TLS listeners and print its SHA-256 "
      "fingerprint; run again, it keeps the pair so that clients which pinned it go on trusting it");
  certs->add_option("--dir", args->dir, "Where server.crt and server.key go")->capture_default_str();
  certs->add_option("--name", args->names,
                    "A host name or IP address clients connect by (repeatable; default localhost, 127.0.0.1, ::1)");
  certs->add_option("--days", args->days, "Validity in days")->capture_default_str()->check(CLI::Range(1, 3650));
  certs->add_flag("--renew", args->renew, "Replace an existing pair (clients must pin the new fingerprint)");
  certs->callback([args] { finish(run_certs(*args)); });
}

const bool kRegistered = register_commands("certs", &add_certs_command);

}  // namespace
}  // namespace wattguard::cli
