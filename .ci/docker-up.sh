#!/usr/bin/env bash
# Makes a Docker engine available for the Testcontainers tests and sets the environment they need.
#
#   source .ci/docker-up.sh              # exports the variables into the current shell
#   eval "$(bash .ci/docker-up.sh)"      # the same; run on its own it prints `export` lines
#
# On an ordinary machine (Docker running, registry reachable) it only checks and cleans up:
# nothing is built, and the tests pull the official postgres:15-alpine.
# On a machine without a Docker engine or an image registry (a closed CI sandbox) it
# installs docker.io, starts dockerd, builds debian:bookworm-slim with debootstrap and
# tracker-ci/postgres:15 from .ci/images/postgres, and points the tests at that image.
# Steps whose result already exists are skipped. Progress goes to stderr, one line per step.
#
# Exports:
#   TESTCONTAINERS_RYUK_DISABLED=true            Ryuk's image can't be pulled everywhere; leftover
#                                                containers are removed here instead
#   TESTCONTAINERS_WAIT_STRATEGY_TIMEOUT=00:02:00  a broken image fails fast, not after an hour
#   TRACKER_POSTGRES_IMAGE=tracker-ci/postgres:15  only when the local image is used
#   DOCKER_API_VERSION=<daemon's API version>    only when the daemon is older than API 1.44,
#                                                which Testcontainers for .NET asks for

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: do the work in a child bash (so `set -e` holds there whatever the caller's shell
  # options or context) and export what it prints.
  if _docker_up_env="$(bash "${BASH_SOURCE[0]}")"; then
    eval "$_docker_up_env"
    unset _docker_up_env
    return 0
  fi
  unset _docker_up_env
  echo "docker-up: failed, see the messages above" >&2
  return 1
fi

set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=debian:bookworm-slim
PG_IMAGE=tracker-ci/postgres:15
PG_CONTEXT=.ci/images/postgres
LOG_DIR="${TMPDIR:-/tmp}/tracker-ci-docker"
mkdir -p "$LOG_DIR"

step() { echo "docker-up: $*" >&2; }
fail() { echo "docker-up: $*" >&2; exit 1; }
# Runs a command quietly; on failure shows the end of its output.
quiet() {
  local log="$LOG_DIR/$1.log"; shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    fail "failed: $* (full output: $log)"
  fi
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The docker calls below find the daemon's version themselves; a DOCKER_API_VERSION left in the
# caller's environment for another daemon must not get in the way.
unset DOCKER_API_VERSION

# --- 1. Docker engine --------------------------------------------------------------------------
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when one of the packages has no candidate yet.
  if [ "$(apt-cache policy "$@" 2>/dev/null | grep -c 'Candidate: [0-9]')" != "$#" ]; then
    step "apt-get update"
    quiet apt-update as_root apt-get update -q
  fi
  step "apt-get install $*"
  quiet apt-install as_root apt-get install -y -q "$@"
}

# Docker Compose, for the compose file's test (Deployment/ComposeFileTests): the plugin or the standalone tool.
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  apt_install docker-compose
fi

if docker info >/dev/null 2>&1; then
  step "Docker engine already running"
else
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    apt_install docker.io debootstrap
  fi
  if ! pgrep -x dockerd >/dev/null; then
    step "starting dockerd (log: /var/log/dockerd.log)"
    # In its own session, so it outlives this script and the job that ran it.
    as_root bash -c 'setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &'
  else
    step "dockerd is starting, waiting for it"
  fi
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 20 /var/log/dockerd.log >&2 || true
    fail "dockerd did not answer within 60 s"
  fi
  step "Docker engine ready"
fi

# --- 2. Images ---------------------------------------------------------------------------------
# The PostgreSQL image is labelled with a hash of its sources, so an edited Dockerfile or
# entrypoint is rebuilt while an unchanged one is kept.
pg_source_hash="$(cat "$PG_CONTEXT/Dockerfile" "$PG_CONTEXT/docker-entrypoint.sh" | sha256sum | cut -c1-16)"
pg_image_current() {
  [ "$(docker image inspect --format '{{ index .Config.Labels "tracker-ci.source" }}' "$PG_IMAGE" 2>/dev/null)" = "$pg_source_hash" ]
}

build_base_image() {
  command -v debootstrap >/dev/null || apt_install debootstrap
  local rootfs
  rootfs="$(mktemp -d /var/tmp/tracker-ci-rootfs.XXXXXX)"
  # debootstrap may mount /proc, /sys or /dev inside the tree: never delete through a mount.
  # shellcheck disable=SC2064
  trap "findmnt -rn -o TARGET | grep -F '$rootfs' | sort -r | xargs -r umount -l; rm -rf --one-file-system '$rootfs'" EXIT
  step "building $BASE_IMAGE with debootstrap (no registry)"
  quiet debootstrap as_root debootstrap --variant=minbase bookworm "$rootfs"
  if findmnt -rn -o TARGET | grep -qF "$rootfs"; then
    fail "debootstrap left file systems mounted under $rootfs"
  fi
  (
    cd "$rootfs"
    # Slim like the official image: no docs (but the copyright files), man pages, locales,
    # apt lists or caches, and keep future package installs from bringing them back.
    cat >etc/dpkg/dpkg.cfg.d/docker <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
    cat >etc/apt/apt.conf.d/docker-clean <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
    echo 'Acquire::Languages "none";' >etc/apt/apt.conf.d/docker-no-languages
    echo 'APT::AutoRemove::SuggestsImportant "false";' >etc/apt/apt.conf.d/docker-autoremove-suggests
    # The official image's package sources (debootstrap writes only "bookworm main").
    rm -f etc/apt/sources.list
    cat >etc/apt/sources.list.d/debian.sources <<'CFG'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
    find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
    find usr/share/doc -mindepth 1 -type d -empty -delete
    rm -rf usr/share/man/* usr/share/groff/* usr/share/info/* usr/share/lintian/* \
      usr/share/linda/* usr/share/locale/* \
      var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb \
      var/cache/ldconfig/aux-cache var/log/apt/* var/log/*.log
    # Docker provides these at run time; don't carry the build machine's.
    : >etc/resolv.conf
    : >etc/hostname
  )
  tar --numeric-owner -C "$rootfs" -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      - "$BASE_IMAGE" >/dev/null
  rm -rf --one-file-system "$rootfs"
  trap - EXIT
}

use_local_pg=false
if pg_image_current; then
  step "$PG_IMAGE already built"
  use_local_pg=true
elif image_exists "postgres:15-alpine"; then
  step "postgres:15-alpine present: the tests use the official image"
else
  step "checking the registry (docker pull $BASE_IMAGE, at most 20 s)"
  if timeout 20 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    step "registry reachable: the tests pull the official postgres:15-alpine"
  else
    if image_exists "$BASE_IMAGE"; then
      step "$BASE_IMAGE already present"
    else
      build_base_image
    fi
    step "building $PG_IMAGE"
    old_id="$(docker image inspect --format '{{.Id}}' "$PG_IMAGE" 2>/dev/null || true)"
    quiet postgres-build env DOCKER_BUILDKIT=0 docker build \
      --label "tracker-ci.source=$pg_source_hash" -t "$PG_IMAGE" "$PG_CONTEXT"
    # The image an edited Dockerfile replaced, unless a container still uses it.
    if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect --format '{{.Id}}' "$PG_IMAGE")" ]; then
      docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
    use_local_pg=true
  fi
fi

# --- 3. Leftovers of earlier runs ---------------------------------------------------------------
# With Ryuk disabled nothing reaps what a crashed test run left behind.
leftovers="$(docker ps -aq --filter label=org.testcontainers=true)"
if [ -n "$leftovers" ]; then
  step "removing $(wc -l <<<"$leftovers") leftover Testcontainers container(s)"
  xargs docker rm -f -v <<<"$leftovers" >/dev/null
fi
leftovers="$(docker network ls -q --filter label=org.testcontainers=true)"
if [ -n "$leftovers" ]; then
  step "removing $(wc -l <<<"$leftovers") leftover Testcontainers network(s)"
  xargs docker network rm <<<"$leftovers" >/dev/null
fi

# --- 4. Environment ----------------------------------------------------------------------------
emit() { printf 'export %s=%q\n' "$1" "$2"; }
emit TESTCONTAINERS_RYUK_DISABLED true
emit TESTCONTAINERS_WAIT_STRATEGY_TIMEOUT 00:02:00
if $use_local_pg; then
  emit TRACKER_POSTGRES_IMAGE "$PG_IMAGE"
fi
api="$(docker version --format '{{.Server.APIVersion}}')"
if awk -v v="$api" 'BEGIN { split(v, a, "."); exit !(a[1] < 1 || (a[1] == 1 && a[2] < 44)) }'; then
  emit DOCKER_API_VERSION "$api"
fi
step "ready (Docker API $api)"
