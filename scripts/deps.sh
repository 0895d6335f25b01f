#!/usr/bin/env bash
# Installs what building and testing need, when it is missing: Debian/Ubuntu
# packages (libhdf5-dev, libopenblas-dev, pkg-config, a C compiler) and the
# Go modules. Idempotent; works as root or through sudo. Sourced by test.sh
# and demo.sh.
set -euo pipefail

need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libhdf5-dev libopenblas-dev pkg-config gcc; do
  have_pkg "$p" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing packages ${need_pkgs[*]} and no apt-get; install them by hand" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install ${need_pkgs[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  echo "deps: installing ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go (>= 1.26) is required: https://go.dev/doc/install" >&2
  exit 1
fi
export CGO_ENABLED=1
go mod download
