// `wattguard meters`: provision meters (store registry + Mosquitto password/ACL files), broker users, list.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "wattguard/base/file_write.h"
#include "wattguard/ingest/command_key_file.h"
#include "wattguard/ingest/provisioning.h"
#include "wattguard/protocol/topics.h"
#include "wattguard/storage/sqlite_store.h"

namespace wattguard::cli {
namespace {

namespace fs = std::filesystem;

// Where the store and the broker's files are (the same layout `wattguard serve` and `demo` use).
struct Locations {
  std::string data_dir = "./data";
  std::string db;      // default <data>/wattguard.db
  std::string passwd;  // default <data>/mosquitto/passwd
  std::string acl;     // default <data>/mosquitto/acl
  std::string server_user = std::string(ingest::kDefaultServerUser);

  std::string db_path() const { return db.empty() ? (fs::path(data_dir) / "wattguard.db").string() : db; }
  ingest::BrokerAuthFiles broker_files() const {
    return {passwd.empty() ? fs::path(data_dir) / "mosquitto" / "passwd" : fs::path(passwd),
            acl.empty() ? fs::path(data_dir) / "mosquitto" / "acl" : fs::path(acl)};
  }
};

void add_location_options(CLI::App* cmd, Locations* loc) {
  cmd->add_option("--data", loc->data_dir, "Data directory (database and broker files under it)")
      ->capture_default_str();
  cmd->add_option("--db", loc->db, "SQLite database file (default <data>/wattguard.db)");
  cmd->add_option("--passwd", loc->passwd, "Mosquitto password file (default <data>/mosquitto/passwd)");
  cmd->add_option("--acl", loc->acl, "Mosquitto ACL file (default <data>/mosquitto/acl)");
  cmd->add_option("--server-user", loc->server_user, "The server's broker user, named in the ACL")
      ->capture_default_str();
}

Expected<std::unique_ptr<storage::SqliteStore>> open_store(const Locations& loc) {
  const fs::path db = loc.db_path();
  std::error_code ec;
  if (db.has_parent_path()) fs::create_directories(db.parent_path(), ec);
  storage::SqliteOptions o;
  o.path = db.string();
  o.reader_connections = 1;
  auto s = storage::SqliteStore::open(o);
  // Whatever the store's reason (unreadable, not a wattguard database), the --db the user gave is at fault.
  if (!s.ok()) return as_bad_input(s.error(), "--db: " + db.string() + ": " + s.error().message);
  return s;
}

// One meter's line: its login and the key that verifies the server's signed commands.
std::string credentials_line(const ingest::MeterCredentials& c, const protocol::CommandKey& master) {
  return c.meter_id + "," + c.username + "," + c.password + "," +
         protocol::command_key_to_hex(protocol::derive_command_key(master, c.meter_id));
}

// CSV "meter_id,username,password,command_key" (the format `wattguard fleet --credentials` reads). An existing
// file is merged: lines of other meters are kept, these replace theirs.
Expected<void> write_credentials(const fs::path& path, const std::vector<ingest::MeterCredentials>& creds,
                                 const protocol::CommandKey& master) {
  std::map<std::string, std::string> lines;  // meter id -> line, existing first
  std::vector<std::string> order;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#' || line.starts_with("meter_id,")) continue;
      const std::string id = line.substr(0, line.find(','));
      if (lines.emplace(id, line).second) order.push_back(id);
    }
  }
  for (const auto& c : creds) {
    if (lines.emplace(c.meter_id, "").second) order.push_back(c.meter_id);
    lines[c.meter_id] = credentials_line(c, master);
  }
  std::string text = "meter_id,username,password,command_key\n";
  for (const auto& id : order) text += lines[id] + "\n";
  if (auto written = write_file_atomically(path, text, 0600); !written.ok()) {
    return option_error("--credentials-out", path.string(), written.error().message);
  }
  return {};
}

struct ProvisionArgs {
  Locations loc;
  std::vector<std::string> ids;
  std::string name, area, owner;
  std::size_t count = 0;
  std::string prefix = "m";
  std::size_t first = 1;
  std::size_t width = 5;
  std::string credentials_out;
  std::string gateway_user;
  int gateway_logins = 1;
  bool use_mosquitto_passwd = false;
};

Expected<void> run_provision(const ProvisionArgs& a) {
  if (a.ids.empty() == (a.count == 0)) {
    return Error::invalid("--id", "",
                          "give either --id (one or more meters) or --count N [--prefix P] for a fleet, not both");
  }
  if (a.count > 1'000'000) {
    return option_error("--count", std::to_string(a.count), std::to_string(a.count) + " is more than 1,000,000");
  }
  std::vector<std::string> ids = a.ids;
  if (a.count > 0) {
    if (a.prefix.empty() || !protocol::is_valid_meter_id(a.prefix)) {
      return option_error("--prefix", a.prefix, "'" + a.prefix + "' must be characters of A-Z a-z 0-9 _ -");
    }
    ids = ingest::bulk_meter_ids(a.prefix, a.first, a.count, a.width);
  }
  if (a.count > 0 && !a.name.empty()) {
    return option_error("--name", a.name, "only with --id (each fleet meter is named by its id)");
  }
  std::vector<storage::MeterInfo> meters;
  for (const auto& id : ids) {
    if (!protocol::is_valid_meter_id(id)) {
      return option_error("--id", id, "'" + id + "' must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
    storage::MeterInfo m;
    m.id = id;
    m.name = a.name;
    m.area = a.area;
    m.owner = a.owner;
    meters.push_back(m);
  }
  auto opened = open_store(a.loc);
  if (!opened.ok()) return opened.error();
  auto& store = opened.value();
  ingest::ProvisionOptions options;
  options.server_user = a.loc.server_user;
  options.gateway_user = a.gateway_user;
  options.gateway_logins = a.gateway_logins;
  options.use_mosquitto_passwd = a.use_mosquitto_passwd;
  const auto t0 = std::chrono::steady_clock::now();
  auto creds = ingest::provision_meters(*store, a.loc.broker_files(), meters, options);
  // Its files (--data, --passwd, --acl) and meter ids are all the user's: every failure is reported as bad input.
  if (!creds.ok()) return as_bad_input(creds.error());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto files = a.loc.broker_files();
  // The same master key the server signs with (made here when the server has not run yet).
  auto master = ingest::load_or_create_command_key(fs::path(a.loc.data_dir) / ingest::kCommandKeyFileName);
  if (!master.ok()) return as_bad_input(master.error(), "--data: " + master.error().to_string());
  if (!a.credentials_out.empty()) {
    if (auto written = write_credentials(a.credentials_out, creds.value(), *master); !written.ok()) return written;
    std::printf("provisioned %zu meter(s) in %.2f s; credentials in %s (keep it secret)\n", meters.size(), seconds,
                a.credentials_out.c_str());
  } else {
    std::printf("meter_id,username,password,command_key\n");
    for (const auto& c : creds.value()) std::printf("%s\n", credentials_line(c, *master).c_str());
    std::fprintf(stderr, "provisioned %zu meter(s) in %.2f s; the passwords above are shown only once\n", meters.size(),
                 seconds);
  }
  std::fprintf(stderr, "broker files: %s, %s (send the broker SIGHUP to load them)\n", files.password_file.c_str(),
               files.acl_file.c_str());
  return {};
}

struct BrokerUserArgs {
  Locations loc;
  std::string user = std::string(ingest::kDefaultServerUser);
  std::string password_file;
  std::string password_out;
  bool homeassistant = false;
};

// The first line of --password-file (or of standard input for "-"), without its line end.
Expected<std::optional<std::string>> chosen_password(const std::string& file) {
  if (file.empty()) return std::optional<std::string>();
  std::string line;
  if (file == "-") {
    std::getline(std::cin, line);
  } else {
    std::ifstream in(file);
    if (!in) return option_error("--password-file", file, "cannot read " + file);
    std::getline(in, line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return option_error("--password-file", file, "the first line is empty");
  return std::optional<std::string>(line);
}

Expected<void> run_broker_user(const BrokerUserArgs& a) {
  auto password = chosen_password(a.password_file);
  if (!password.ok()) return std::move(password).error();
  ingest::ProvisionOptions options;
  options.server_user = a.loc.server_user;
  if (a.homeassistant) options.homeassistant_user = a.user;
  auto pw = ingest::set_broker_user(a.loc.broker_files(), a.user, password.value(), options);
  if (!pw.ok()) return as_bad_input(pw.error());
  if (!a.password_out.empty()) {
    if (auto written = write_file_atomically(a.password_out, pw.value() + "\n", 0600); !written.ok()) {
      return option_error("--password-out", a.password_out, written.error().message);
    }
    std::printf("broker user %s set; password in %s\n", a.user.c_str(), a.password_out.c_str());
  } else {
    std::printf("%s\n", pw.value().c_str());
    std::fprintf(stderr, "broker user %s set (password above, shown only once)\n", a.user.c_str());
  }
  return {};
}

struct ListArgs {
  Locations loc;
  bool json = false;
};

Expected<void> run_list(const ListArgs& a) {
  if (!fs::exists(a.loc.db_path())) return option_error("--db", a.loc.db_path(), a.loc.db_path() + " does not exist");
  auto store = open_store(a.loc);
  if (!store.ok()) return store.error();
  auto meters = (*store)->list_meters();
  if (!meters.ok()) return as_bad_input(meters.error(), "--db: " + meters.error().message);
  if (a.json) {
    for (const auto& m : meters.value()) {
      nlohmann::json j = {
          {"id", m.id}, {"name", m.name}, {"area", m.area}, {"owner", m.owner}, {"created_ms", m.created_ms}};
      std::printf("%s\n", j.dump().c_str());
    }
    return {};
  }
  std::printf("%-20s %-20s %-12s %-12s\n", "id", "name", "area", "owner");
  for (const auto& m : meters.value()) {
    std::printf("%-20s %-20s %-12s %-12s\n", m.id.c_str(), m.name.c_str(), m.area.c_str(), m.owner.c_str());
  }
  std::fprintf(stderr, "%zu meter(s)\n", meters->size());
  return {};
}

void add_meters_commands(CLI::App& app) {
  auto* meters = app.add_subcommand("meters", "Provision meters: store registry, broker credentials and ACL");
  meters->require_subcommand(1);

  auto pa = std::make_shared<ProvisionArgs>();
  auto* prov = meters->add_subcommand(
      "provision",
      "Register meters and give each its own broker login (random password, PBKDF2-SHA512 hash in the\n"
      "Mosquitto password file) and the ACL that lets it publish only under wattguard/v1/<its id>/.\n"
      "One meter:  wattguard meters provision --id m1 --area north\n"
      "A fleet:    wattguard meters provision --count 20000 --prefix m --credentials-out data/credentials.csv");
  add_location_options(prov, &pa->loc);
  prov->add_option("--id", pa->ids, "Meter id(s), [A-Za-z0-9_-]{1,64}; repeat for several");
  prov->add_option("--name", pa->name, "Display name (with --id)");
  prov->add_option("--area", pa->area, "Service area (the meter reader's patch)");
  prov->add_option("--owner", pa->owner, "Consumer who owns the meter (user name)");
  prov->add_option("--count", pa->count, "Provision a fleet of N meters named <prefix><number>");
  prov->add_option("--prefix", pa->prefix, "Id prefix for --count")->capture_default_str();
  prov->add_option("--first", pa->first, "First number for --count")->capture_default_str();
  prov->add_option("--width", pa->width, "Zero-pad numbers to this many digits")->capture_default_str();
  prov->add_option("--credentials-out", pa->credentials_out,
                   "Write meter_id,username,password lines to this file (merged; mode 0600) instead of stdout");
  prov->add_option("--gateway-user", pa->gateway_user,
                   "Also create a gateway broker user that may publish for every meter (load tests)");
  prov->add_option("--gateway-logins", pa->gateway_logins,
                   "With --gateway-user NAME: create NAME-1..NAME-N, one per gateway connection (the broker binds "
                   "a client id to its user)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  prov->add_flag("--use-mosquitto-passwd", pa->use_mosquitto_passwd,
                 "Hash with the mosquitto_passwd binary instead of in-process (slow; for checking)");
  prov->callback([pa] { finish(run_provision(*pa)); });

  auto ba = std::make_shared<BrokerUserArgs>();
  auto* bu = meters->add_subcommand(
      "broker-user", "Add or replace a broker user that is not a meter (the server's own login), print its password");
  add_location_options(bu, &ba->loc);
  bu->add_option("--user", ba->user, "Broker user name")->capture_default_str();
  bu->add_option("--password-file", ba->password_file,
                 "Use the password in this file (its first line; - reads standard input) instead of a random one; "
                 "never on the command line, where any local user sees it in ps");
  bu->add_option("--password-out", ba->password_out, "Write the password to this file (mode 0600) instead of stdout");
  bu->add_flag("--homeassistant", ba->homeassistant,
               "A Home Assistant user: reads discovery and state, writes only relay/set and its status");
  bu->callback([ba] { finish(run_broker_user(*ba)); });

  auto la = std::make_shared<ListArgs>();
  auto* list = meters->add_subcommand("list", "List provisioned meters");
  add_location_options(list, &la->loc);
  list->add_flag("--json", la->json, "One JSON object per line");
  list->callback([la] { finish(run_list(*la)); });
}

const bool kRegistered = register_commands("meters", &add_meters_commands);

}  // namespace
}  // namespace wattguard::cli
