#!/usr/bin/env bash
# Re-locks every image's requirements: servers/*/requirements.in and images/*/requirements.in ->
# requirements.txt (exact pins, transitive dependencies included). Resolution runs inside the offline
# base image (Debian bookworm's Python 3.11.2), the oldest Python the images are built on, so no pin
# needs a newer interpreter. Needs Docker and the base image (`mcpstack images build` makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
base="${LOCK_BASE_IMAGE:-mcpstack/base:bookworm-python3.11-2}"
ca="${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}"
links="${PIP_FIND_LINKS:-$(python3 -m pip config get global.find-links 2>/dev/null || true)}"
mounts=(-v "$PWD:/src:ro")
environment=()
if [ -n "$ca" ] && [ -f "$ca" ]; then mounts+=(-v "$ca:/ca.pem:ro"); environment+=(-e PIP_CERT=/ca.pem); fi
if [ -n "$links" ] && [ -d "$links" ]; then mounts+=(-v "$links:/wheels:ro"); environment+=(-e PIP_FIND_LINKS=/wheels); fi
for input in servers/*/requirements.in images/*/requirements.in; do
  output="${input%.in}.txt"
  {
    echo "# Locked from $(basename "$input") by scripts/lock-requirements.sh; do not edit by hand."
    docker run --rm --network bridge "${mounts[@]}" "${environment[@]}" "$base" sh -c \
      "python3 -m venv /tmp/v && /tmp/v/bin/pip install --quiet --disable-pip-version-check -r /src/$input \
       && /tmp/v/bin/pip freeze --all" | grep -vE '^(pip|setuptools|wheel)=='
  } > "$output.new"
  mv "$output.new" "$output"
  echo "locked $output ($(grep -vc '^#' "$output") packages)"
done
