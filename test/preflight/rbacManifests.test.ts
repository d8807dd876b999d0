import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cliProcess.js';

// manifests/rbac/ is what a reviewer reads; the probe agents' Role there must be the one the tool
// applies with the probes.

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: unknown[];
  roleRef?: unknown;
  subjects?: unknown[];
}

const docs = (...path: string[]) => parseAllDocuments(readFileSync(join(ROOT, 'manifests', ...path), 'utf8')).map((d) => d.toJS() as Doc);
const rbacOf = (list: Doc[]) => list.filter((d) => d.kind === 'Role' || d.kind === 'RoleBinding').map((d) => ({ kind: d.kind, metadata: d.metadata, rules: d.rules, roleRef: d.roleRef, subjects: d.subjects }));

describe('manifests/rbac', () => {
  it("the probe agents' Role and RoleBinding are the ones the probe manifests apply", () => {
    const reviewed = rbacOf(docs('rbac', 'probe-agent.yaml'));
    expect(reviewed.map((d) => d.kind)).toEqual(['Role', 'RoleBinding']);
    expect(reviewed).toEqual(rbacOf(docs('probe', 'probe-agent.yaml')));
    // Read-only, namespaced: an agent can change nothing.
    const verbs = (reviewed[0]!.rules as { verbs: string[] }[]).flatMap((r) => r.verbs);
    expect([...new Set(verbs)].sort()).toEqual(['get', 'list', 'watch']);
  });
});
