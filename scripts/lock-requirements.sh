#!/usr/bin/env bash
# Re-locks every image's requirements: servers/*/requirements.in -> requirements.txt (exact pins,
# transitive dependencies included), resolved in a throwaway venv on this machine's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
for input in servers/*/requirements.in; do
  output="${input%.in}.txt"
  venv=$(mktemp -d)
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$input"
  {
    echo "# Locked from $(basename "$input") by scripts/lock-requirements.sh; do not edit by hand."
    "$venv/bin/pip" freeze --all | grep -vE '^(pip|setuptools|wheel)=='
  } > "$output"
  rm -rf "$venv"
  echo "locked $output ($(grep -vc '^#' "$output") packages)"
done
