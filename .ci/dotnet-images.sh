#!/usr/bin/env bash
# Builds local stand-ins for the .NET SDK and ASP.NET Core runtime images from this machine's .NET install
# (tracker-ci/dotnet-sdk:10.0, tracker-ci/aspnet:10.0), when they are missing. Needs debian:bookworm-slim
# (.ci/docker-up.sh makes it). Prints the build arguments that point the Dockerfile at them.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # image dockerfile parts...
  local image=$1 dockerfile=$2; shift 2
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "dotnet-images: $image already built" >&2
    return
  fi
  local context="$work/$image"; mkdir -p "$context/dotnet" "$context/certificates"
  for part in "$@"; do cp -a "$dotnet_root/$part" "$context/dotnet/"; done
  cp -a /usr/local/share/ca-certificates/. "$context/certificates/" 2>/dev/null || true
  echo "dotnet-images: building $image" >&2
  docker build -q -t "$image" -f "$dockerfile" "$context" >/dev/null
}

build tracker-ci/dotnet-sdk:10.0 .ci/images/dotnet/sdk.Dockerfile dotnet host shared sdk packs sdk-manifests templates
build tracker-ci/aspnet:10.0 .ci/images/dotnet/aspnet.Dockerfile dotnet host shared
echo "--build-arg SDK_IMAGE=tracker-ci/dotnet-sdk:10.0 --build-arg RUNTIME_IMAGE=tracker-ci/aspnet:10.0"
