import { describe, expect, it } from 'vitest';
import { parseScenario } from './scenarioLoader.js';

describe('scenario files', () => {
  it('reads objects and one Simulation document with defaults for the rest', () => {
    const s = parseScenario(
      `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: sim.cni-migration.dev/v1alpha1
kind: Simulation
nodes: 5
firewall:
  blocked: [{port: 6081}]
`,
      'scn.yaml',
    );
    expect(s.objects.map((o) => o.object.metadata.name)).toEqual(['shop']);
    expect(s.settings.nodes).toEqual(['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
    expect(s.settings.firewall.blocked).toEqual([{ protocol: 'udp', port: 6081 }]);
    expect(s.settings.timings.podStartMs).toBeGreaterThanOrEqual(0);
  });

  it('lets --nodes replace a Simulation.nodes count, but not names', () => {
    const counted = parseScenario('kind: Simulation\nnodes: 4\n', 'a.yaml', {}, { defaultNodes: 8 });
    expect(counted.settings.nodes).toHaveLength(8);
    expect(counted.notes).toEqual([]);
    const named = parseScenario('kind: Simulation\nnodes: [a, b]\n', 'b.yaml', {}, { defaultNodes: 8 });
    expect(named.settings.nodes).toEqual(['a', 'b']);
    expect(named.notes).toEqual(['--nodes 8 ignored: b.yaml names its nodes (Simulation.nodes)']);
  });

  it('names the file, document and field of a bad setting', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
kind: Simulation
timings: {podStartMs: -1}
`;
    expect(() => parseScenario(text, 'scn.yaml')).toThrow(/scn\.yaml: document 2: timings\.podStartMs/);
  });

  it('refuses unknown simulation keys by name', () => {
    expect(() => parseScenario('kind: Simulation\nnodez: 3\n', 'a.yaml')).toThrow('a.yaml: document 1: unknown field "nodez"');
    expect(() => parseScenario('kind: Simulation\nfirewall: {blocked: [{port: 1, prot: udp}]}\n', 'a.yaml')).toThrow(/unknown field "firewall\.blocked\.0\.prot"/);
  });

  it('refuses objects without kind or name, and YAML syntax errors, with the document number', () => {
    expect(() => parseScenario('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', 'b.yaml')).toThrow('b.yaml: document 1 (line 1): metadata.name: Required value');
    expect(() => parseScenario('---\napiVersion: v1\nmetadata: {name: x}\n', 'b.yaml')).toThrow(/document 1.*kind: Required value/);
    expect(() => parseScenario('apiVersion: v1\nkind: [unclosed\n', 'c.yaml')).toThrow(/c\.yaml: document 1/);
  });
});
