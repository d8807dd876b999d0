#!/usr/bin/env bash
# Smoke test for the control plane built by build.sh: generates a CA and certs, starts etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler on free 127.0.0.1 ports, waits until
# they are ready, runs a few kubectl commands, and stops everything on exit (process groups).
#
#   e2e/controlplane/smoke.sh            # builds (or reuses) the binaries first
#   KEEP=1 e2e/controlplane/smoke.sh     # keep the temp dir (logs, certs) for inspection
#   TIMEOUT=120                          # seconds to wait for each component (default 120)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$HERE/bin"
TIMEOUT="${TIMEOUT:-120}"

"$HERE/build.sh"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[smoke %6ss] %s\n' "$(elapsed "$T0" "$(now)")" "$*"; }

D="$(mktemp -d "${TMPDIR:-/tmp}/cp-smoke.XXXXXX")"
PKI="$D/pki"
mkdir -p "$PKI" "$D/logs"

PIDS=()   # each component runs in its own session/process group: PID == PGID
NAMES=()

# Any live (non-zombie) process left in the component's session? (setsid: SID == PGID == PID)
group_alive() { ps -o stat= -s "$1" 2>/dev/null | grep -qv '^Z'; }

stop() { # index: SIGTERM the component's process group, wait up to 15s, then SIGKILL
  local pid="${PIDS[$1]}" name="${NAMES[$1]}" t
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  t="$(now)"
  for _ in $(seq 150); do group_alive "$pid" || break; sleep 0.1; done
  if group_alive "$pid"; then
    echo "[smoke] $name did not stop within 15s of SIGTERM; SIGKILL" >&2
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  echo "[smoke] stopped $name in $(elapsed "$t" "$(now)")s"
}

cleanup() {
  local rc=$?
  set +e
  # Reverse start order, one at a time: the apiserver's graceful shutdown still talks to etcd
  # (it deletes its own identity Lease), so etcd must outlive it or the apiserver hangs.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop "$i"; done
  if [[ $rc != 0 ]]; then
    echo "[smoke] FAILED (exit $rc); last log lines:" >&2
    for f in "$D"/logs/*.log; do
      [[ -f "$f" ]] || continue
      echo "---- $f" >&2
      tail -n 25 "$f" >&2
    done
  fi
  if [[ -n "${KEEP:-}" ]]; then echo "[smoke] kept $D"; else rm -rf "$D"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- free ports: bind five ephemeral ports on 127.0.0.1 at once (so they are distinct), report, release
read -r EP PP AP KP SP < <(node -e '
  const net = require("net");
  const servers = [];
  const next = () => {
    if (servers.length === 5) {
      console.log(servers.map((s) => s.address().port).join(" "));
      servers.forEach((s) => s.close());
      return;
    }
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { servers.push(s); next(); });
  };
  next();')
echo "temp dir $D; ports: etcd client $EP, etcd peer $PP, apiserver $AP, kcm $KP, scheduler $SP"

# ---- PKI: one CA; apiserver serving cert; admin client cert (system:masters); SA key pair
ossl() { openssl "$@" 2>>"$D/logs/openssl.log"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=cni-migration-test-ca \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt"
ossl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
  -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr"
ossl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 3650 -out "$PKI/apiserver.crt" -extfile <(printf '%s\n' \
  'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local' \
  'extendedKeyUsage=serverAuth' 'keyUsage=critical,digitalSignature,keyEncipherment')
ossl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" \
  -keyout "$PKI/admin.key" -out "$PKI/admin.csr"
ossl x509 -req -in "$PKI/admin.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 3650 -out "$PKI/admin.crt" -extfile <(printf '%s\n' \
  'extendedKeyUsage=clientAuth' 'keyUsage=critical,digitalSignature,keyEncipherment')
ossl genrsa -out "$PKI/sa.key" 2048
ossl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"

KUBECONFIG_FILE="$D/admin.kubeconfig"
cat > "$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$AP
    certificate-authority: $PKI/ca.crt
users:
- name: admin
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
EOF
export KUBECONFIG="$KUBECONFIG_FILE"

start() { # name binary args...
  local name="$1"; shift
  setsid "$@" >"$D/logs/$name.log" 2>&1 </dev/null &
  PIDS+=("$!")
  NAMES+=("$name")
}

alive() { # die early when a component has exited instead of waiting for the timeout
  local i
  for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
      echo "[smoke] ${NAMES[i]} exited early" >&2
      return 1
    fi
  done
}

wait_for() { # description command...
  local what="$1"; shift
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    alive || exit 1
    if (( $(date +%s) > deadline )); then
      echo "[smoke] timed out after ${TIMEOUT}s waiting for $what" >&2
      exit 1
    fi
    sleep 0.2
  done
  log "$what"
}

CURL_ADMIN=(curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key")

T0="$(now)"

# ---- etcd
start etcd "$BIN/etcd" --name=node0 --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$EP" --advertise-client-urls="http://127.0.0.1:$EP" \
  --listen-peer-urls="http://127.0.0.1:$PP" --initial-advertise-peer-urls="http://127.0.0.1:$PP" \
  --initial-cluster="node0=http://127.0.0.1:$PP" --initial-cluster-state=new \
  --unsafe-no-fsync=true --auto-compaction-retention=1 --quota-backend-bytes=8589934592 \
  --log-level=warn
etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$EP/health" | grep -q '"health":"true"'; }
wait_for "etcd healthy" etcd_healthy

# ---- kube-apiserver
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$EP" \
  --bind-address=127.0.0.1 --secure-port="$AP" \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --default-not-ready-toleration-seconds=300 --default-unreachable-toleration-seconds=300 \
  --enable-priority-and-fairness=false --profiling=false --v=1
wait_for "kube-apiserver /readyz (admin client cert)" "${CURL_ADMIN[@]}" "https://127.0.0.1:$AP/readyz"
T_API="$(elapsed "$T0" "$(now)")"

# ---- kube-controller-manager and kube-scheduler
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$KUBECONFIG_FILE" \
  --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$KP" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --leader-elect=false --controllers='*' \
  --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --allocate-node-cidrs=true --cluster-cidr=10.244.0.0/16 --node-cidr-mask-size=24 \
  --service-cluster-ip-range=10.96.0.0/16 \
  --node-monitor-period=1s --node-monitor-grace-period=10s --node-startup-grace-period=20s \
  --node-eviction-rate=10 --secondary-node-eviction-rate=10 \
  --kube-api-qps=100 --kube-api-burst=200 --v=1
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$KUBECONFIG_FILE" \
  --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$SP" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --leader-elect=false --v=1
wait_for "kube-controller-manager /healthz" curl -fsSk --max-time 5 "https://127.0.0.1:$KP/healthz"
wait_for "kube-scheduler /readyz" curl -fsSk --max-time 5 "https://127.0.0.1:$SP/readyz"
wait_for "ServiceAccount default/default (created by KCM)" kubectl get serviceaccount default -n default
T_ALL="$(elapsed "$T0" "$(now)")"

# ---- checks
echo "== /version"
"${CURL_ADMIN[@]}" "https://127.0.0.1:$AP/version"
echo
echo "== kubectl get ns"
kubectl get ns
echo "== kubectl api-resources | head"
resources="$(kubectl api-resources)"   # not piped into head: pipefail would see kubectl's SIGPIPE
head <<<"$resources"

echo "== controllers and scheduler"
# One fake node, Ready, with a lease: the node-lifecycle controller must remove the admission
# not-ready:NoSchedule taint, the scheduler must bind the Deployment's pod to it.
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: smoke-node
  labels: {kubernetes.io/hostname: smoke-node, kubernetes.io/os: linux}
EOF
has_not_ready_taint() { kubectl get node smoke-node -o jsonpath='{.spec.taints[*].key}' | grep -qx 'node.kubernetes.io/not-ready'; }
has_not_ready_taint || { echo "[smoke] new Node lacks the not-ready taint" >&2; exit 1; }
log "new Node carries the admission taint node.kubernetes.io/not-ready:NoSchedule"
patch_ready() {
  local ts; ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  kubectl patch node smoke-node --subresource=status --type=merge -p "{\"status\":{
    \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"smoke\",
      \"lastHeartbeatTime\":\"$ts\",\"lastTransitionTime\":\"$ts\"}],
    \"capacity\":{\"cpu\":\"8\",\"memory\":\"32Gi\",\"pods\":\"110\"},
    \"allocatable\":{\"cpu\":\"8\",\"memory\":\"32Gi\",\"pods\":\"110\"},
    \"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}]}}" >/dev/null
}
patch_ready
kubectl create deployment smoke --image=registry.invalid/pause:never-pulled --replicas=1 >/dev/null
no_taints() { [[ -z "$(kubectl get node smoke-node -o jsonpath='{.spec.taints}')" ]]; }
wait_for "node-lifecycle controller removed the not-ready taint from the Ready node" no_taints
pod_bound() {
  patch_ready   # keep the heartbeat fresh (node-monitor-grace-period is 10s)
  [[ "$(kubectl get pods -l app=smoke -o jsonpath='{.items[*].spec.nodeName}')" == smoke-node ]]
}
wait_for "deployment -> replicaset -> pod created and bound to smoke-node by the scheduler" pod_bound
kubectl get node smoke-node -o jsonpath='{"podCIDR: "}{.spec.podCIDR}{"\n"}'
kubectl get pods -o wide

echo
echo "SMOKE OK: kube-apiserver ready after ${T_API}s, all components ready after ${T_ALL}s (from etcd start)"
