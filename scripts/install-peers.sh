#!/usr/bin/env bash
# Install the real peers that the tests start (from Debian's packages). Idempotent: does
# nothing when they are already there. Needs root (or sudo) only when something is missing.
set -euo pipefail

# command -> Debian package
declare -A PEERS=(
  [openssl]=openssl
  [nginx]=nginx-light
  [haproxy]=haproxy
  [redis-server]=redis-server
  [redis-cli]=redis-tools
)

missing=()
for cmd in "${!PEERS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PEERS[$cmd]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present (${!PEERS[*]})"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-peers: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
