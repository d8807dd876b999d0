#!/usr/bin/env bash
# Re-pins this module to another Kubernetes release: requires k8s.io/kubernetes@VERSION, replaces
# every k8s.io staging module listed in that release's own go.mod with the matching v0.x version,
# requires go.etcd.io/etcd/server/v3 at the version that release pins for its etcd client, and
# runs `go mod tidy`. Needs the Go module proxy. Usage: e2e/controlplane/update-k8s.sh v1.35.8
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOWORK=off GOTOOLCHAIN=local

V="${1:?usage: $0 v1.MINOR.PATCH}"
V="v${V#v}"
[[ "$V" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "not a Kubernetes release: $V" >&2; exit 1; }

MOD="$(go mod download -json "k8s.io/kubernetes@$V" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
[[ -f "$MOD" ]] || { echo "could not download k8s.io/kubernetes@$V" >&2; exit 1; }

ETCD="$(awk '$1 == "go.etcd.io/etcd/client/v3" { print $2; exit }' "$MOD")"
[[ -n "$ETCD" ]] || { echo "k8s.io/kubernetes@$V does not pin go.etcd.io/etcd/client/v3" >&2; exit 1; }

# Drop the old k8s.io replaces, then add one per staging module of this release.
go mod edit -json | sed -n 's/.*"Path": "\(k8s\.io\/[^"]*\)".*/\1/p' | sort -u |
  while read -r m; do go mod edit -dropreplace="$m"; done
staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$MOD")"
args=()
for m in $staging; do args+=("-replace=$m=$m@v0.${V#v1.}"); done
go mod edit "${args[@]}" -require="k8s.io/kubernetes@$V" -require="go.etcd.io/etcd/server/v3@$ETCD"

go mod tidy
echo "pinned k8s.io/kubernetes $V, $(wc -w <<<"$staging") staging replaces at v0.${V#v1.}, etcd server $ETCD"
echo "upstream go.mod says: $(grep -E '^(go|godebug) ' "$MOD" | tr '\n' ' ')(keep this module's go/godebug lines in step)"
