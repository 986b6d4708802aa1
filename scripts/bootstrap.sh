#!/usr/bin/env bash
# Prepares a machine for mcpstack, installing only what is missing:
#   - a Docker engine: installs Debian's docker.io and starts dockerd when no engine answers;
#   - debootstrap, for the offline base image on machines without a container registry;
#   - redis-server (the rate limiter's unit tests run a real one), wrk (benchmarks) and bubblewrap
#     (the sandbox's runner tests start real namespaces on the host), chromium (the browser e2e suite
#     drives Debian's Chromium with Playwright: no browser download), npm (the MCP conformance suite and the
#     Node 22 it runs on come from the npm registry: scripts/install-conformance.sh), docker-compose (the
#     generated compose.yaml is checked by the Compose implementation Debian has), docker-registry (a real
#     registry on 127.0.0.1 that `mcpstack images push` is tested against);
#   - the project's virtualenv (.venv) with mcpstack and its test dependencies.
# Fails loudly, naming what could not be done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bootstrap] error:\033[0m %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* with your package manager"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "installing $*"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    # Name the package that cannot be installed, not just the batch.
    local package
    for package in "$@"; do
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
        || die "cannot install the Debian package $package (apt-get install $package failed; see its output above)"
    done
    die "apt-get install $* failed"
  fi
}

ensure_python() {
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "Python >= 3.11 is required (found: $(python3 --version 2>&1))"
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

ensure_docker() {
  if docker info >/dev/null 2>&1; then
    log "Docker engine answers ($(docker info --format '{{.ServerVersion}}'))"
    return
  fi
  command -v docker >/dev/null && command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || die "Debian package docker.io is installed but the docker command is not on PATH"
  # An engine may already answer on a socket given to this machine (e.g. scripts/fresh-machine-check.sh).
  if docker info >/dev/null 2>&1; then
    log "Docker engine answers ($(docker info --format '{{.ServerVersion}}'))"
    return
  fi
  if ! pgrep -x dockerd >/dev/null; then
    # A dockerd killed with its session leaves its pid file behind, and a new one refuses to start.
    as_root rm -f /var/run/docker.pid
    log "starting dockerd (log: /var/log/mcpstack-dockerd.log)"
    as_root sh -c 'setsid nohup dockerd >/var/log/mcpstack-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      log "Docker engine answers ($(docker info --format '{{.ServerVersion}}'))"
      return
    fi
    sleep 1
  done
  tail -n 20 /var/log/mcpstack-dockerd.log >&2 2>/dev/null || true
  die "no Docker engine answered within 60 s (see /var/log/mcpstack-dockerd.log; non-root users need the docker group)"
}

# Every host command the tests and the two README commands use, and the Debian package that provides it.
# A machine where one was once installed by hand hides a missing entry here: scripts/fresh-machine-check.sh
# runs the README's commands where nothing was.
HOST_TOOLS=(
  "debootstrap debootstrap"
  "redis-server redis-server"
  "wrk wrk"
  "bwrap bubblewrap"
  "chromium chromium"
  "npm npm"
  "docker-compose docker-compose"
  "docker-registry docker-registry"
)

ensure_tools() {
  local missing=() entry command package
  for entry in "${HOST_TOOLS[@]}"; do
    read -r command package <<<"$entry"
    command -v "$command" >/dev/null || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  for entry in "${HOST_TOOLS[@]}"; do
    read -r command package <<<"$entry"
    command -v "$command" >/dev/null || die "Debian package $package is installed but its command $command is not on PATH"
  done
  # Debian starts redis-server as a service where an init system runs; tests start their own.
  if pgrep -x redis-server >/dev/null && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
}

ensure_venv() {
  local stamp=.venv/.mcpstack-installed wanted
  wanted=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    log "virtualenv .venv is up to date"
    return
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv || die "cannot create .venv"
  log "installing mcpstack into .venv"
  .venv/bin/pip install --quiet --quiet --disable-pip-version-check -e '.[dev]' || die "pip install -e '.[dev]' failed"
  echo "$wanted" > "$stamp"
}

ensure_python
ensure_docker
ensure_tools
ensure_venv
log "ready"
