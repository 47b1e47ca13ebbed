#!/usr/bin/env bash
# The main job: this repository's own Cake build (build/build.cake, using the Cake.Ko addin packed from
# src/Cake.Ko): build, pack, then containerise examples/hello for linux/amd64 and linux/arm64 on the embedded
# base (no registry) into artifacts/, and print the image reference. Also publishes the `dotnet ko` tool to
# artifacts/ko and installs it as a local tool, so `dotnet ko` works here. Installs Go when it is missing.
# ./build.sh --test also runs the tests inside the Cake build.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prereqs.sh
ensure_dotnet
ensure_packages go:golang-go

mkdir -p artifacts
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
dotnet publish src/Ko.Cli -c Release -r "$(dotnet_rid)" -o artifacts/ko --nologo -v quiet >&2
# The same tool compiled ahead of time (native, no JIT at start-up: about 190 ms less per no-op rebuild here).
ensure_packages clang:clang
ensure_files /usr/include/zlib.h:zlib1g-dev
dotnet publish src/Ko.Cli -c Release -r "$(dotnet_rid)" -p:PublishAot=true -o artifacts/ko-aot --nologo -v quiet >&2
# The #addin line is resolved before any task runs, so the addin is packed first into a local feed; the addin
# cache is cleared because the version number stays the same between builds.
dotnet pack src/Cake.Ko -c Release -o artifacts/feed --nologo -v quiet >&2
# `dotnet ko`: the tool is packed into the same feed and restored from it into the local tool manifest
# (.config/dotnet-tools.json pins ko.cli). It is a RID-specific tool: Ko.Cli points at Ko.Cli.<this rid>, compiled
# ahead of time (native start-up), and at Ko.Cli.any, the framework-dependent build for every other platform.
# Its version stays the same between builds, so the cached copies go first.
rid="$(dotnet_rid)"
dotnet pack src/Ko.Cli -c Release -o artifacts/feed -p:KoToolRid="$rid" -p:KoToolNative=true --nologo -v quiet >&2
dotnet pack src/Ko.Cli -c Release -o artifacts/feed -p:KoToolRid="$rid" -r any --nologo -v quiet >&2
dotnet pack src/Ko.Cli -c Release -o artifacts/feed -p:KoToolRid="$rid" -p:KoToolNative=true -r "$rid" --nologo -v quiet >&2
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
rm -rf "$packages/ko.cli" "$packages/ko.cli.any" "$packages/ko.cli.$rid"
# The SDK's record of where the restored tool lives (it would still name an earlier build's layout).
rm -f "${DOTNET_CLI_HOME:-$HOME}"/.dotnet/toolResolverCache/*/ko.cli
dotnet tool restore --add-source "$PWD/artifacts/feed" >&2
dotnet ko version >/dev/null # fails the build here when the installed tool does not run
rm -rf artifacts/cake-addins
skip="--skip-tests"
[ "${1:-}" = "--test" ] && skip=""
dotnet cake build/build.cake $skip --app-version="$version" \
  --nuget_source="$PWD/artifacts/feed" --paths_addins="$PWD/artifacts/cake-addins" >&2
cat artifacts/hello.refs
