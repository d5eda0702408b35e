#!/usr/bin/env bash
# Installs what the torch engine needs on Debian/Ubuntu: libtorch 1.13 (libtorch-dev) and the
# pthread OpenBLAS (libopenblas0-pthread; Debian's default reference BLAS is ~10x slower), then
# builds the addon. Only missing packages are installed; without apt-get or root it says what to
# run and exits 0, so the project still installs and runs on the wasm engine.
#   scripts/install-torch-deps.sh            (as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(libtorch-dev libopenblas0-pthread)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "torch engine dependencies present: ${PACKAGES[*]}"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install libtorch 1.13 (headers under /usr/include/torch) and OpenBLAS yourself; the wasm engine works meanwhile" >&2
  exit 0
else
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
      echo "not root and no sudo: run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 0
    fi
  fi
  echo "installing ${missing[*]} (about 200 MB)"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -d node_modules/node-gyp ]; then node scripts/build-native.mjs; else echo "run npm ci next: it builds the addon"; fi
