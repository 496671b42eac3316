// `wattguard import topology|readings FILE`: sends a topology or readings file to a running server's API
// (PUT /api/v1/topology, POST /api/v1/import/readings) and prints what was imported or the server's refusal.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command_registry.h"
#include "wattguard/analytics/readings_csv.h"
#include "wattguard/notify/http_client.h"

namespace wattguard::cli {
namespace {

using nlohmann::json;

struct ImportArgs {
  std::string file;
  std::string server = "http://127.0.0.1:8080";
  std::string token;
  int timeout_s = 600;
  bool json_output = false;
};

Expected<std::string> token_of(const ImportArgs& a) {
  if (!a.token.empty()) return a.token;
  if (const char* env = std::getenv("WATTGUARD_TOKEN"); env != nullptr && *env != '\0') return std::string(env);
  return Error::invalid("--token", "",
                        "no API token: pass --token or set WATTGUARD_TOKEN (an admin token, e.g. from "
                        "`wattguard users token --scope admin`)");
}

bool looks_like_json(const std::string& text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{';
  }
  return false;
}

// Sends the file; returns the parsed JSON answer of a 2xx. The server's 400/413 are the file's fault (an Error
// with exit 2, source the file); an unreachable server, a refused token or another answer are failures (exit 1).
Expected<json> send(const ImportArgs& a, const std::string& method, const std::string& path,
                    const std::string& content_type, const std::string& body) {
  notify::HttpCall call;
  call.method = method;
  std::string base = a.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  call.url = base + path;
  const auto token = token_of(a);
  if (!token.ok()) return token.error();
  call.headers.emplace_back("Authorization", "Bearer " + token.value());
  call.headers.emplace_back("Accept", "application/json");
  call.content_type = content_type;
  call.body = body;
  call.timeout_ms = a.timeout_s * 1000;
  if (auto url = notify::parse_url(call.url); !url.ok()) {
    return as_bad_input(url.error(), "--server = '" + a.server + "': " + url.error().message);
  }
  const notify::HttpOutcome out = notify::http_call(call);
  if (!out.error.empty()) return Error::unavailable("cannot reach the server at " + a.server + ": " + out.error);
  const json answer = json::parse(out.body, nullptr, false);
  std::string message = out.body;
  if (answer.is_object() && answer.contains("error") && answer["error"].is_object() &&
      answer["error"].contains("message") && answer["error"]["message"].is_string()) {
    message = answer["error"]["message"].get<std::string>();
  }
  if (out.status >= 200 && out.status < 300) {
    if (answer.is_discarded()) {
      return Error::internal("the server answered " + std::to_string(out.status) + " without JSON");
    }
    return answer;
  }
  // The server's message names the line and field of the file at fault.
  if (out.status == 400) return Error::invalid("", "", a.file + ": " + message).at(a.file);
  if (out.status == 413) {
    return Error::invalid("", "",
                          a.file + ": larger than the server accepts (" + message +
                              "); raise http.max_import_bytes in the server's configuration or split the file")
        .at(a.file);
  }
  if (out.status == 401 || out.status == 403) {
    return Error::permission_denied("the server refused the token (HTTP " + std::to_string(out.status) +
                                    "): " + message);
  }
  return Error::unavailable("the server answered HTTP " + std::to_string(out.status) + ": " + message);
}

Expected<std::string> read_input(const ImportArgs& a) {
  auto text = analytics::read_text_file(a.file, 1LL << 30);
  // Missing, unreadable or too large: the FILE argument is at fault (exit 2).
  if (!text.ok()) return as_bad_input(text.error(), a.file + ": " + text.error().message);
  return text;
}

Expected<void> run_topology(const ImportArgs& a) {
  const auto body = read_input(a);
  if (!body.ok()) return body.error();
  const bool is_json = looks_like_json(body.value());
  const auto answer = send(a, "PUT", "/api/v1/topology", is_json ? "application/json" : "text/csv", body.value());
  if (!answer.ok()) return answer.error();
  if (a.json_output) {
    std::printf("%s\n", answer->dump().c_str());
    return {};
  }
  std::printf("imported topology %s: %s transformers, %s consumers (replacing %s transformers)\n", a.file.c_str(),
              answer->value("transformers", json(0)).dump().c_str(), answer->value("consumers", json(0)).dump().c_str(),
              answer->value("replaced_transformers", json(0)).dump().c_str());
  return {};
}

Expected<void> run_readings(const ImportArgs& a) {
  const auto body = read_input(a);
  if (!body.ok()) return body.error();
  const auto answer = send(a, "POST", "/api/v1/import/readings", "text/csv", body.value());
  if (!answer.ok()) return answer.error();
  if (a.json_output) {
    std::printf("%s\n", answer->dump().c_str());
    return {};
  }
  std::printf(
      "imported readings %s: %s rows, %s meters, %s intervals stored, %s already stored, %s gap intervals "
      "covered by registers, %s missing\n",
      a.file.c_str(), answer->value("rows", json(0)).dump().c_str(), answer->value("meters", json(0)).dump().c_str(),
      answer->value("intervals_stored", json(0)).dump().c_str(),
      answer->value("intervals_skipped", json(0)).dump().c_str(),
      answer->value("intervals_filled", json(0)).dump().c_str(),
      answer->value("intervals_missing", json(0)).dump().c_str());
  return {};
}

void add_common(CLI::App* cmd, ImportArgs& a, const char* what) {
  cmd->add_option("file", a.file, what)->required();
  cmd->add_option("--server", a.server, "the running server's URL")->capture_default_str();
  cmd->add_option("--token", a.token, "admin API token (default: the WATTGUARD_TOKEN environment variable)");
  cmd->add_option("--timeout", a.timeout_s, "seconds to wait for the server")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_flag("--json", a.json_output, "print the server's answer as JSON");
}

void add_import_commands(CLI::App& app) {
  auto* import = app.add_subcommand("import", "Import a grid topology or interval readings into a running server");
  import->require_subcommand(1);

  auto topo = std::make_shared<ImportArgs>();
  auto* topo_cmd = import->add_subcommand(
      "topology",
      "Replace the server's grid topology with FILE: CSV transformer,meter,role (role check or consumer) "
      "or JSON {\"transformers\": [{\"id\", \"name\", \"area\", \"check_meter\", \"consumers\": []}]}. "
      "All or nothing; every meter must be provisioned (docs/grid.md)");
  add_common(topo_cmd, *topo, "topology file (CSV or JSON)");
  topo_cmd->callback([topo] { finish(run_topology(*topo)); });

  auto readings = std::make_shared<ImportArgs>();
  auto* readings_cmd = import->add_subcommand(
      "readings",
      "Store interval readings from FILE (CSV meter,time,kwh[,register_kwh]; one row per meter per "
      "interval of 15 minutes or a divisor of it) in the server as 15-minute energies, for meters that do "
      "not report over MQTT (e.g. check meters read elsewhere). All or nothing (docs/grid.md)");
  add_common(readings_cmd, *readings, "readings CSV file");
  readings_cmd->callback([readings] { finish(run_readings(*readings)); });
}

const bool kRegistered = register_commands("import", &add_import_commands);

}  // namespace
}  // namespace wattguard::cli
