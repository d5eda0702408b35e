#!/usr/bin/env bash
# Debian's PyTorch (python3-torch, with numpy) for the benchmarks' PyTorch references:
# bench/torch-reference.py (npm run bench) and bench/replication-port.py (node dist/bench/replication.js);
# and h5py (python3-h5py) for scripts/make-model-fixtures.py, which writes the Keras fixtures.
# Installs only what is missing; the benchmarks run without it, printing our figures alone.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, numpy, h5py' 2>/dev/null; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" install-bench-deps python3-torch libopenblas0-pthread python3-h5py
