#!/usr/bin/env bash
# Installs every Debian package fwpcast's build, tests and `make run` need, only when missing.
# Works as root; uses sudo otherwise; runs `apt-get update` at most once.
set -euo pipefail

packages=(
  build-essential pkg-config clang-format
  # `make fuzz` (and the fuzz smoke run of `make test`): clang, and libFuzzer with the sanitizer
  # runtimes, which clang only recommends (libclang-rt-dev: libclang_rt.fuzzer-x86_64.a)
  clang libclang-rt-dev
  libmicrohttpd-dev libsqlite3-dev sqlite3 libjansson-dev
  libopenblas-dev liblapacke-dev libcurl4-openssl-dev libcmocka-dev
  curl ca-certificates
  chromium
)

# The dashboard's browser tests (tests/e2e/, `make e2e`): Debian's chromium above, and Node.js
# with npm for playwright-core. A Node.js from elsewhere (NodeSource's nodejs package bundles npm
# and conflicts with Debian's npm; nvm) is used as it is.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

# `install-deps.sh --bench` adds what `make bench` needs.
if [ "${1:-}" = "--bench" ]; then
  packages+=(wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
