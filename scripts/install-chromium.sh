#!/usr/bin/env bash
# Debian's Chromium for the report's browser tests (src/cli/report.test.ts drives it with playwright-core,
# which never downloads a browser). Installs it only where /usr/bin/chromium is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" install-chromium chromium
