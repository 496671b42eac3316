// Settings of the MQTT ingest service (filled by `wattguard serve` from its TOML file).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "wattguard/protocol/command_signature.h"
#include "wattguard/tls/mqtt_client_tls.h"

namespace wattguard::ingest {

struct IngestConfig {
  // Broker connection. The server user may read wattguard/v1/# and write wattguard/v1/+/cmd
  // (see provisioning.h, which writes that ACL).
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string username = "wattguard-server";
  std::string password;
  // MQTT over TLS to the broker's TLS listener, verifying its certificate (disabled: plain MQTT).
  tls::MqttClientTls tls{};
  // MQTT client id; must be stable across restarts so the broker keeps the persistent session
  // (clean_session false) and the QoS 1 messages that arrived while the server was down.
  std::string client_id = "wattguard-server-1";
  int keepalive_s = 30;
  bool clean_session = false;
  // Shared subscription group ($share/<group>/...): servers with the same group split the meters'
  // readings, events and acks between them. Empty = plain subscriptions (one server).
  // Default empty because Mosquitto 2.0.11 (Debian 12) does not restore shared subscriptions from
  // its persistence file: after a broker restart, messages published before the server has
  // re-subscribed are dropped (tested; see docs/protocol.md). Plain subscriptions of the persistent
  // session are restored, so nothing is lost. Set a group only with several servers (PostgreSQL).
  std::string share_group;
  // Where QoS 1 messages are journaled between their PUBACK and their commit, so that a killed server
  // replays them at its next start (see server/ingest/ingest_journal.h). Empty: no journal (tests, tools);
  // `wattguard serve` uses <data dir>/ingest-journal.
  std::string journal_dir;
  int reconnect_min_s = 1;  // reconnect back-off, doubling up to reconnect_max_s
  int reconnect_max_s = 30;

  // Batching into the store. 0 (default): group commit, the writer takes whatever has arrived as soon
  // as it is free, so a reading at light load is stored at once and under load batches grow by
  // themselves while the previous one is written. > 0: a batch waits until it holds
  // flush_max_readings or its oldest reading has waited flush_interval_ms (fewer, bigger transactions).
  int flush_interval_ms = 0;
  std::size_t flush_max_readings = 2000;
  // Bound on readings accepted but not yet stored; above it the MQTT thread waits for the writer
  // (back-pressure; with QoS 1 the broker holds the rest).
  std::size_t max_pending_readings = 200'000;

  // Offline detection: a meter is offline after its status topic says so, or after
  // missed_periods x its period without a reading. The period comes from the meter's status
  // message (period_s), else default_period_s.
  int default_period_s = 5;
  int missed_periods = 3;
  int liveness_check_ms = 1000;

  // Commands: a command not acknowledged within this time becomes timed_out.
  int command_timeout_ms = 30'000;
  // When set, every command published over MQTT is signed with the meter's key derived from this master key
  // (protocol/command_signature.h), with a nonce that only grows; command_key_file.h keeps it on disk.
  std::optional<protocol::CommandKey> command_master_key;

  // Clock (Unix ms); replaceable in tests. Default: the system clock.
  std::function<int64_t()> now_ms;
};

}  // namespace wattguard::ingest
