#!/usr/bin/env bash
# Builds Helm from the pinned module in this directory's go.mod into ./bin/helm, for the e2e test
# that rehearses install, upgrade, rollback and uninstall against the simulated API server.
#
# Skipped when bin/helm exists and bin/.stamp records the same hash of go.mod, go.sum and the
# build settings below. FORCE=1 rebuilds anyway. Works from any cwd; uses the default
# GOMODCACHE/GOCACHE (shared with e2e/controlplane, so k8s.io modules build once).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

BIN="$HERE/bin"
STAMP="$BIN/.stamp"
BUILD_REV=1

export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

hash_inputs() {
  { cat go.mod go.sum; echo "rev=$BUILD_REV"; } | sha256sum | cut -d' ' -f1
}

want="$(hash_inputs)"
if [[ -z "${FORCE:-}" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$BIN/helm" ]]; then
  echo "helm up to date in $BIN (stamp $want)"
  exit 0
fi

t0="$(date +%s)"
go mod download
HELM_VERSION="$(go list -m -f '{{.Version}}' helm.sh/helm/v4)"
echo "building Helm $HELM_VERSION with $(go version | cut -d' ' -f3) into $BIN"

mkdir -p "$BIN"
rm -f "$STAMP"
tmp="$(mktemp -d "$BIN/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Without the version variable `helm version` says v4.3 (the source default), not the release.
go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" -o "$tmp/helm" helm.sh/helm/v4/cmd/helm
mv -f "$tmp/helm" "$BIN/helm"
echo "$want" > "$STAMP"
echo "total: $(( $(date +%s) - t0 )) s"
