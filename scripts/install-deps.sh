#!/usr/bin/env bash
# Installs the Debian 12 packages wattguard needs, only those missing (idempotent, no prompts).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config clang-format clang-tidy
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libpqxx-dev libpq-dev postgresql-15 libboost-dev libsodium-dev libssl-dev libmosquitto-dev mosquitto nats-server libcrypt-dev zlib1g-dev prometheus curl openssl faketime
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
  chromium
  clang libclang-rt-14-dev
)
[ -n "${WATTGUARD_EXTRA_PACKAGES:-}" ] && read -r -a extra <<<"$WATTGUARD_EXTRA_PACKAGES" && packages+=("${extra[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
