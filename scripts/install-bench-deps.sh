#!/usr/bin/env bash
# Debian's PyTorch (python3-torch, with numpy) for the benchmarks' PyTorch references:
# bench/torch-reference.py (npm run bench) and bench/replication-port.py (node dist/bench/replication.js).
# Installs only what is missing; the benchmarks run without it, printing our figures alone.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: python3-torch is missing and this is not root; run: sudo apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3-torch libopenblas0-pthread
