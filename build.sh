#!/usr/bin/env bash
# The main job: build examples/hello for linux/amd64 and linux/arm64 on the embedded base (no network, no
# registry) into artifacts/, and print the image reference. Installs Go when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prereqs.sh
ensure_dotnet
ensure_packages go:golang-go

dotnet publish src/Ko.Cli -c Release -r "$(dotnet_rid)" -o artifacts/ko --nologo -v quiet >&2
mkdir -p artifacts
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
artifacts/ko/Ko.Cli build ./ \
  --working-dir examples/hello \
  --push=false \
  --platform linux/amd64,linux/arm64 \
  --ldflags "-X main.version=${version}" \
  --oci-layout-path "$PWD/artifacts/hello-layout" \
  --oci-archive "$PWD/artifacts/hello.oci.tar" \
  --tarball "$PWD/artifacts/hello.docker.tar" \
  --image-refs "$PWD/artifacts/hello.refs"
