#!/usr/bin/env bash
# Runs the README's commands on a throwaway "fresh machine": a container made from the offline Debian base
# (python3 only) plus what every new machine of ours is given (make, git, gcc, procps, curl), and nothing a
# developer ever installed by hand. scripts/bootstrap.sh has to install everything else, exactly as on a new CI
# machine, so a missing install step fails here, before a submission, instead of in CI.
#
#   scripts/fresh-machine-check.sh                 # git clone of HEAD, then `make test` inside
#   scripts/fresh-machine-check.sh make up         # any command, run in the clone
#   KEEP=1 scripts/fresh-machine-check.sh ...      # keep the work folder afterwards
#
# How it stands in for a machine:
#   - the clone of the committed HEAD (uncommitted work is not tested: a fresh clone would not have it);
#   - the host's Docker engine through its socket (images already built are reused, as on a CI machine that
#     built them before; the engine's own install is the bootstrap's job and is tested by its `docker` step);
#   - host networking, so the stacks' ports on 127.0.0.1 are the same 127.0.0.1 for the tests;
#   - the work folder mounted at the same path inside and outside, so files the tests hand to containers
#     (bind mounts of secrets and generated config) resolve on the host engine;
#   - every capability this host grants and no seccomp/AppArmor filter (what "privileged" gives, less
#     CAP_SYS_RESOURCE, which these machines do not have), so bubblewrap can make its namespaces;
#   - the machine's package-index settings (CA bundle, pip config, the local wheel folder), read-only.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${FRESH_BASE:-mcpstack/base:bookworm-python3.11-2}
# What a new machine of ours has before anything of the project runs (see /work/.library/env: python, gcc,
# make, git, the docker client). The docker client is left out on purpose: the bootstrap installs docker.io.
GIVEN="make git gcc libc6-dev python3-dev procps curl"  # ca-certificates: in the base
COMMAND=("$@")
[ "${#COMMAND[@]}" -gt 0 ] || COMMAND=(make test)

log() { printf '\033[1m[fresh-machine]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[fresh-machine] error:\033[0m %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || ./scripts/bootstrap.sh
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  log "no $BASE yet: building the offline base (the bootstrap's virtualenv does it)"
  ./scripts/bootstrap.sh
  .venv/bin/python -c 'from mcpstack.local.base_image import ensure_offline_base; from mcpstack.local.docker_engine import docker_client; ensure_offline_base(docker_client(), print)'
fi

WORK=$(mktemp -d /var/tmp/mcpstack-fresh-XXXXXX)
cleanup() {
  if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else log "kept $WORK"; fi
}
trap cleanup EXIT
mkdir -p "$WORK/tmp"
git clone --quiet "$(pwd)" "$WORK/repo"
log "clone of $(git rev-parse --short HEAD) in $WORK/repo; running: ${COMMAND[*]}"

mounts=(-v /var/run/docker.sock:/var/run/docker.sock -v "$WORK:$WORK")
for path in /etc/ssl/certs/ca-certificates.crt /etc/xdg/pip /etc/pip.conf /opt/wheels; do
  [ -e "$path" ] && mounts+=(-v "$path:$path:ro")
done
envs=(-e TMPDIR="$WORK/tmp" -e CI=true)
for name in PIP_CERT PIP_FIND_LINKS PIP_DEFAULT_TIMEOUT PIP_DISABLE_PIP_VERSION_CHECK SSL_CERT_FILE \
            REQUESTS_CA_BUNDLE CURL_CA_BUNDLE; do
  [ -n "${!name:-}" ] && envs+=(-e "$name=${!name}")
done

start=$(date +%s)
set +e
docker run --rm --name "mcpstack-fresh-$$" --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined --network host \
  "${mounts[@]}" "${envs[@]}" -w "$WORK/repo" "$BASE" \
  bash -c "set -e
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $GIVEN >/dev/null
    echo '[fresh-machine] given packages installed; nothing else: bwrap, chromium, redis-server, wrk, debootstrap, docker are absent:'
    for c in bwrap chromium redis-server wrk debootstrap docker; do command -v \$c >/dev/null && echo \"  \$c present\" || echo \"  \$c absent\"; done
    exec $(printf '%q ' "${COMMAND[@]}")"
status=$?
set -e
log "${COMMAND[*]} exited $status after $(( $(date +%s) - start )) s"
exit "$status"
