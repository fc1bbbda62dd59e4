#!/usr/bin/env bash
# Local images for docker-compose.scale.yml on a machine that can't reach an image registry (a closed CI sandbox):
# tracker-ci/nats:2.9 and tracker-ci/nginx:1.22 from Debian's packages, and the service image trackerservice:scale
# built from the local .NET stand-ins (.ci/dotnet-images.sh). Needs the engine and debian:bookworm-slim that
# .ci/docker-up.sh provides. Images that exist are kept. Prints the variables that point the compose file at them:
#
#   source .ci/docker-up.sh && eval "$(bash .ci/scale-images.sh)"
#   docker-compose -f docker-compose.scale.yml up -d
#
# On an ordinary machine none of this is needed: the compose file pulls nats:2.9-alpine, nginx:1.27-alpine and
# postgres:15-alpine and builds the service from the Dockerfile's default base images.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG="${TMPDIR:-/tmp}/tracker-ci-docker/scale-images.log"
mkdir -p "$(dirname "$LOG")"
step() { echo "scale-images: $*" >&2; }
# Builds quietly (the legacy builder, as .ci/docker-up.sh: no buildx here); on failure shows the end of the log.
docker_build() {
  DOCKER_BUILDKIT=0 docker build "$@" >"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; step "failed: docker build $*"; exit 1; }
}
build() { # image context
  if docker image inspect "$1" >/dev/null 2>&1; then
    step "$1 already built"
  else
    step "building $1"
    docker_build -t "$1" "$2"
  fi
}

build tracker-ci/nats:2.9 .ci/images/nats
build tracker-ci/nginx:1.22 .ci/images/nginx
read -r -a image_args <<<"$(bash .ci/dotnet-images.sh)"
step "building trackerservice:scale (the working tree's code)"
docker_build -t trackerservice:scale "${image_args[@]}" .

printf 'export %s=%q\n' TRACKER_NATS_IMAGE tracker-ci/nats:2.9 TRACKER_NGINX_IMAGE tracker-ci/nginx:1.22 TRACKER_IMAGE trackerservice:scale
