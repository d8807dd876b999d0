#!/usr/bin/env bash
# Builds the upstream Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler) and etcd from the pinned modules in this directory's go.mod into ./bin/.
#
# The build is skipped when all four binaries exist and bin/.stamp records the same hash of
# go.mod, go.sum and the build settings below. FORCE=1 rebuilds anyway.
# Works from any cwd. Uses the default GOMODCACHE/GOCACHE so later runs on the machine reuse them.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

BIN="$HERE/bin"
STAMP="$BIN/.stamp"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler etcd)

# Bump when the flags below change, to invalidate existing binaries.
BUILD_REV=1

# Everything comes from go.mod and go.sum; never touch the network for anything but modules,
# never rewrite go.mod, never switch toolchains, ignore any go.work above us.
export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

hash_inputs() {
  { cat go.mod go.sum; echo "rev=$BUILD_REV"; } | sha256sum | cut -d' ' -f1
}

want="$(hash_inputs)"
if [[ -z "${FORCE:-}" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  missing=0
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || missing=1; done
  if [[ $missing == 0 ]]; then
    echo "control plane binaries up to date in $BIN (stamp $want)"
    exit 0
  fi
fi

t0="$(now)"
t="$t0"
go mod download   # everything go.mod/go.sum pin; a no-op when the module cache has it
echo "go mod download: $(elapsed "$t" "$(now)") s"

# Versions come from go.mod (the module cache answers; no network when already downloaded).
K8S_VERSION="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
ETCD_VERSION="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
K8S_DATE="$(go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
K8S_DATE="${K8S_DATE:-1970-01-01T00:00:00Z}"
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"

echo "building Kubernetes $K8S_VERSION and etcd $ETCD_VERSION with $(go version | cut -d' ' -f3) into $BIN"

# Version variables as upstream's hack/lib/version.sh sets them (both copies). Without them
# /version says v0.0.0-master+$Format:%H$ and clients misjudge the server.
ld=(-s -w)
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=(-X "$pkg.gitVersion=$K8S_VERSION" -X "$pkg.gitMajor=1" -X "$pkg.gitMinor=$minor"
       -X "$pkg.gitTreeState=clean" -X "$pkg.buildDate=$K8S_DATE")
done

# Build into a scratch dir and move into place, so an interrupted build never leaves a
# half-written set of binaries next to a valid stamp.
mkdir -p "$BIN"
rm -f "$STAMP"
tmp="$(mktemp -d "$BIN/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

t="$(now)"
# Upstream release builds: static (CGO_ENABLED=0), -trimpath, tags selinux,notest, -s -w.
go build -trimpath -tags selinux,notest -ldflags "${ld[*]}" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler
echo "go build kube-apiserver, kube-controller-manager, kube-scheduler: $(elapsed "$t" "$(now)") s"

t="$(now)"
# The main package is the module root; name the output, or it is called "server".
go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
  -o "$tmp/etcd" go.etcd.io/etcd/server/v3
echo "go build etcd: $(elapsed "$t" "$(now)") s"

for b in "${BINARIES[@]}"; do mv -f "$tmp/$b" "$BIN/$b"; done
echo "$want" > "$STAMP"

echo "total: $(elapsed "$t0" "$(now)") s"
for b in "${BINARIES[@]}"; do
  printf '  %-24s %6.1f MB\n' "$b" "$(awk -v s="$(stat -c %s "$BIN/$b")" 'BEGIN { print s / 1048576 }')"
done
