#!/usr/bin/env bash
# Run by `npm test` before the suite: the tests drive real system tools, installed here with
# apt-get when missing (Debian/Ubuntu, as root or through sudo): openssl (the HTTPS test's
# self-signed certificate), chromium (the console's browser test) and nats-server (the NATS
# journal's contract and cluster tests), redis-server and redis-cli (the Redis protocol tests: the
# differential oracle and a real CLI client). Anywhere else it names what to install and stops.
set -euo pipefail
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "npm test: installing ${missing[*]} (the tests drive them) with apt-get" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" && exit 0
fi
echo "npm test: please install ${missing[*]} (Debian/Ubuntu package names; chromium at /usr/bin/chromium), then run npm test again" >&2
exit 1
