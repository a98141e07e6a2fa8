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
  [apache2]=apache2
  [javac]=openjdk-17-jdk-headless
  [chromium]=chromium
  [lighttpd]=lighttpd
  [systemd-notify]=systemd
  [python3]=python3-minimal
  [h2o]=h2o
  [hitch]=hitch
  [exim4]=exim4-daemon-light
  [faketime]=faketime
)

# Debian keeps apache2 in /usr/sbin, outside a normal user's PATH.
export PATH="$PATH:/usr/sbin"


missing=()
for cmd in "${!PEERS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PEERS[$cmd]}")
done
# lighttpd's TLS (and so its stapling) is a module of its own package.
[ -e /usr/lib/lighttpd/mod_openssl.so ] || missing+=(lighttpd-mod-openssl)
# Tomcat 10 and Jetty 9 put no command on PATH: the tests run their own copies from these files.
[ -e /usr/share/tomcat10/bin/catalina.sh ] || missing+=(tomcat10)
[ -e /usr/share/jetty9/start.jar ] || missing+=(jetty9)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present (${!PEERS[*]})"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-peers: installing ${missing[*]}"
$sudo apt-get update -qq
# Installing a server package starts its service on a public port (apache2 on :80). The tests
# start their own private instances, so tell invoke-rc.d to start nothing during the install.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  own_policy=1
fi
trap '[ -n "$own_policy" ] && $sudo rm -f "$policy"' EXIT
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
