#!/usr/bin/env bash
# Installs Debian packages for one of the project's install scripts, as root; not root, it says the
# command to run and exits 1. The caller checks first whether what it needs is already there.
#   scripts/apt-install.sh WHO PACKAGE...
set -euo pipefail
who="$1"
shift
if [ "$(id -u)" -ne 0 ]; then
  echo "$who: missing, and this is not root; run: sudo apt-get install -y --no-install-recommends $*" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "$@"
