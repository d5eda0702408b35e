#!/usr/bin/env bash
# Debian's Chromium for the report's browser tests (src/cli/report.test.ts drives it with playwright-core,
# which never downloads a browser). Installs it only where /usr/bin/chromium is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: /usr/bin/chromium is missing and this is not root; run: sudo apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
