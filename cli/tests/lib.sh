# Shared prelude of the cli/tests/*.sh end-to-end scripts; source it after `set -euo pipefail`:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Gives: $work (a temporary directory removed on exit), pids (append background processes: they are
# killed and waited for on exit), fail MESSAGE (prints it and the tail of every $work/*.log, exits 1)
# and free_port (a TCP port free on 127.0.0.1 right now). For the scripts that run `wattguard serve`:
# server_env (sets http_port, mqtt_port, data and url), write_server_config and start_server.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }; done
  exit 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Free ports for the server's HTTP API and its broker, its data directory and its URL.
server_env() {
  http_port=$(free_port)
  mqtt_port=$(free_port)
  data="$work/data"
  url="http://127.0.0.1:$http_port"
}

# Writes $work/wattguard.toml for those: the data directory, the HTTP port, the broker port, then the
# lines on stdin (more [mqtt] keys first, then other sections).
write_server_config() {
  {
    printf '[storage]\ndata_dir = "%s"\n[http]\nport = %s\n[mqtt]\nport = %s\n' "$data" "$http_port" "$mqtt_port"
    cat
  } >"$work/wattguard.toml"
}

# Starts `$bin serve --config $work/wattguard.toml` in the background (log: $work/serve.log, pid:
# server_pid) and waits up to 30 s until its API answers.
start_server() {
  "$bin" serve --config "$work/wattguard.toml" >>"$work/serve.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$url/api/v1/session" && return 0
    sleep 0.1
  done
  fail "the server did not answer on $url"
}
