#!/usr/bin/env bash
# Runs every test: unit tests and the integration tests that use real go, skopeo, umoci and podman (runc, vfs).
# Installs the prerequisites when they are missing. Ends with one line: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prereqs.sh
ensure_dotnet
ensure_packages git:git go:golang-go docker-registry:docker-registry skopeo:skopeo umoci:umoci podman:podman runc:runc htpasswd:apache2-utils
# The signing tests' checker is built from Debian's containers/image and x/crypto sources (Debian's skopeo and podman
# have sigstore disabled); Go sources have no command to look for, so look for the files.
ensure_files /usr/share/gocode/src/github.com/containers/image/signature/internal/sigstore_payload.go:golang-github-containers-image-dev \
  /usr/share/gocode/src/golang.org/x/crypto/nacl/secretbox/secretbox.go:golang-golang-x-crypto-dev

# podman in this sandbox: runc, vfs, and no default ulimits (crun and cgroup limits fail here).
export KO_TEST_CONTAINERS_CONF="$PWD/tests/containers.conf"
export CONTAINERS_CONF="$KO_TEST_CONTAINERS_CONF"

results="$PWD/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
status=0
# Build everything first, then test without building: `dotnet test` on a solution otherwise builds projects while
# other test assemblies already run, so a test could see a project half built (and timing tests compete with csc).
if ! dotnet build KoAddins.sln -c Release --nologo -v quiet; then
  echo "the solution did not build (errors above)"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
dotnet test KoAddins.sln -c Release --no-build --nologo --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$failed" -ne 0 ]; then
  # The failures again, right above the count, so the end of a long log names them (CI keeps only the tail).
  echo "failed tests:"
  perl -0777 -ne 'sub text { my $t = shift; $t =~ s/&lt;/</g; $t =~ s/&gt;/>/g; $t =~ s/&quot;/"/g; $t =~ s/&#xD;//g; $t =~ s/&amp;/&/g; $t }
    while (/<UnitTestResult [^>]*?testName="([^"]*)"[^>]*?outcome="Failed"(.*?)<\/UnitTestResult>/gs) {
      my ($name, $body) = ($1, $2); my ($msg) = $body =~ /<Message>(.*?)<\/Message>/s;
      print "  ", text($name), "\n    ", join("\n    ", grep { defined } (split /\n/, text($msg // ""))[0..7]), "\n" }' "$results"/*.trx || true
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
