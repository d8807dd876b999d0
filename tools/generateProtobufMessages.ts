// Writes src/sim/api/protobufMessages.generated.ts: the field numbers, names and types of the
// Kubernetes messages typed clients send as protobuf bodies (kubectl create, Helm), read from the
// generated.proto files of k8s.io/api and k8s.io/apimachinery in the Go module cache — the
// versions e2e/helm/go.mod pins (`cd e2e/helm && go mod download` fetches them).
//
//   npx tsx tools/generateProtobufMessages.ts
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const HELM = join(ROOT, 'e2e', 'helm');
const env = { ...process.env, GOWORK: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' };
const dirOf = (mod: string) => execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', mod], { cwd: HELM, env, encoding: 'utf8' }).trim();
const versionOf = (mod: string) => execFileSync('go', ['list', '-m', '-f', '{{.Version}}', mod], { cwd: HELM, env, encoding: 'utf8' }).trim();

const api = dirOf('k8s.io/api');
const machinery = dirOf('k8s.io/apimachinery');
const FILES = [
  join(machinery, 'pkg/apis/meta/v1/generated.proto'),
  join(machinery, 'pkg/util/intstr/generated.proto'),
  join(machinery, 'pkg/api/resource/generated.proto'),
  join(machinery, 'pkg/runtime/generated.proto'),
  ...['core/v1', 'apps/v1', 'policy/v1', 'rbac/v1', 'networking/v1', 'discovery/v1', 'coordination/v1'].map((p) => join(api, p, 'generated.proto')),
];

// The kinds the simulator decodes, by the message that carries them.
const ROOTS: Record<string, string> = {
  DeleteOptions: 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  Namespace: 'k8s.io.api.core.v1.Namespace',
  ConfigMap: 'k8s.io.api.core.v1.ConfigMap',
  Secret: 'k8s.io.api.core.v1.Secret',
  ServiceAccount: 'k8s.io.api.core.v1.ServiceAccount',
  Service: 'k8s.io.api.core.v1.Service',
  Pod: 'k8s.io.api.core.v1.Pod',
  Node: 'k8s.io.api.core.v1.Node',
  Endpoints: 'k8s.io.api.core.v1.Endpoints',
  Event: 'k8s.io.api.core.v1.Event',
  Binding: 'k8s.io.api.core.v1.Binding',
  Deployment: 'k8s.io.api.apps.v1.Deployment',
  DaemonSet: 'k8s.io.api.apps.v1.DaemonSet',
  StatefulSet: 'k8s.io.api.apps.v1.StatefulSet',
  ReplicaSet: 'k8s.io.api.apps.v1.ReplicaSet',
  ControllerRevision: 'k8s.io.api.apps.v1.ControllerRevision',
  PodDisruptionBudget: 'k8s.io.api.policy.v1.PodDisruptionBudget',
  Eviction: 'k8s.io.api.policy.v1.Eviction',
  Role: 'k8s.io.api.rbac.v1.Role',
  ClusterRole: 'k8s.io.api.rbac.v1.ClusterRole',
  RoleBinding: 'k8s.io.api.rbac.v1.RoleBinding',
  ClusterRoleBinding: 'k8s.io.api.rbac.v1.ClusterRoleBinding',
  NetworkPolicy: 'k8s.io.api.networking.v1.NetworkPolicy',
  EndpointSlice: 'k8s.io.api.discovery.v1.EndpointSlice',
  Lease: 'k8s.io.api.coordination.v1.Lease',
};

// Which scalar fields JSON writes at their zero value: pointers (*int32 replicas: 0 means 0) and
// fields without omitempty — read from the Go types beside each proto, keyed by struct and field
// number. Go's protobuf encoding writes every non-pointer scalar, zero or not; JSON omits the
// omitempty ones, and so does the decoder.
const keepZero = new Set<string>();
for (const file of FILES) {
  const dir = join(file, '..');
  const pkg = /^package ([\w.]+);/m.exec(readFileSync(file, 'utf8'))![1]!;
  for (const go of readdirSync(dir).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))) {
    let struct: string | undefined;
    for (const line of readFileSync(join(dir, go), 'utf8').split('\n')) {
      const start = /^type (\w+) struct \{/.exec(line);
      if (start) struct = start[1];
      else if (/^\}/.test(line)) struct = undefined;
      if (!struct) continue;
      const f = /^\s+\w+\s+(\*?)[\w.]+\s+`json:"([^"]*)"[^`]*protobuf:"\w+,(\d+),/.exec(line);
      if (f && (f[1] === '*' || !f[2]!.split(',').includes('omitempty'))) keepZero.add(`${pkg}.${struct}#${f[3]}`);
    }
  }
}

type Field = [name: string, type: string, repeated?: 1 | 0, keepZero?: 1];
const messages = new Map<string, Record<number, Field>>();
for (const file of FILES) {
  const text = readFileSync(file, 'utf8');
  const pkg = /^package ([\w.]+);/m.exec(text)![1]!;
  const qualify = (t: string) => (t.startsWith('.') ? t.slice(1) : /^(string|bytes|bool|int32|int64|uint32|uint64|double|float|sint32|sint64|fixed32|fixed64)$/.test(t) ? t : `${pkg}.${t}`);
  for (const m of text.matchAll(/^message (\w+) \{([\s\S]*?)^\}/gm)) {
    const fields: Record<number, Field> = {};
    for (const line of m[2]!.split('\n')) {
      const map = /^\s+map<(\w+), ?([\w.]+)> (\w+) = (\d+);/.exec(line);
      if (map) {
        fields[Number(map[4])] = [map[3]!, `map:${map[1]}:${qualify(map[2]!)}`];
        continue;
      }
      const f = /^\s+(optional|repeated) ([\w.]+) (\w+) = (\d+);/.exec(line);
      if (!f) continue;
      const field: Field = f[1] === 'repeated' ? [f[3]!, qualify(f[2]!), 1] : [f[3]!, qualify(f[2]!)];
      if (f[1] !== 'repeated' && keepZero.has(`${pkg}.${m[1]}#${f[4]}`)) field.push(0, 1);
      fields[Number(f[4])] = field;
    }
    messages.set(`${pkg}.${m[1]}`, fields);
  }
}

// Only the messages reachable from the roots.
const keep = new Set<string>();
const visit = (name: string) => {
  if (keep.has(name)) return;
  const fields = messages.get(name);
  if (!fields) throw new Error(`message ${name} not found in ${FILES.join(', ')}`);
  keep.add(name);
  for (const [, type] of Object.values(fields)) {
    const ref = type.startsWith('map:') ? type.split(':')[2]! : type;
    if (ref.includes('.')) visit(ref);
  }
};
for (const root of Object.values(ROOTS)) visit(root);

const lines = [
  `// Generated by tools/generateProtobufMessages.ts from the generated.proto files of`,
  `// k8s.io/api ${versionOf('k8s.io/api')} and k8s.io/apimachinery ${versionOf('k8s.io/apimachinery')}: each message's field numbers, names and types. Do not edit.`,
  ``,
  `/** [JSON name, type (a scalar, "map:<key>:<value>" or a message's full name), repeated, JSON writes its zero value]. */`,
  `export type ProtoField = readonly [name: string, type: string, repeated?: 1 | 0, keepZero?: 1];`,
  ``,
  `/** The message each kind is sent as. */`,
  `export const ROOT_MESSAGES: Readonly<Record<string, string>> = ${JSON.stringify(ROOTS, null, 2)};`,
  ``,
  `export const MESSAGES: Readonly<Record<string, Readonly<Record<number, ProtoField>>>> = {`,
  ...[...keep].sort().map((name) => `  '${name}': {${Object.entries(messages.get(name)!).map(([n, f]) => ` ${n}: ${JSON.stringify(f)}`).join(',')} },`),
  `};`,
  ``,
];
const out = join(ROOT, 'src', 'sim', 'api', 'protobufMessages.generated.ts');
writeFileSync(out, lines.join('\n'));
console.log(`wrote ${out}: ${keep.size} messages for ${Object.keys(ROOTS).length} kinds`);
