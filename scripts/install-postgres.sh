#!/usr/bin/env bash
# Debian's PostgreSQL server binaries, for the tests of the PostgreSQL result store (src/experiment/
# store.test.ts and src/cli/postgres.test.ts start a throwaway cluster on loopback; they fail under CI
# without it and skip elsewhere). Installs only where no /usr/lib/postgresql/*/bin/initdb exists; the
# package's own cluster is not needed (the tests make theirs).
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null; then
  exit 0
fi
exec "$(dirname "$0")/apt-install.sh" install-postgres postgresql
