import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_NODE_COUNT, loadScenarioFile, parseScenario } from './scenarioLoader.js';

// How a scenario's simulated nodes are decided (Simulation.nodes, Node objects, --nodes, the
// default) and how `include` pulls in object files.

const SIM = 'apiVersion: sim.cni-migration.dev/v1alpha1\nkind: Simulation\n';

function node(name: string, labels: Record<string, string> = {}): string {
  return `---\napiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\n  labels: ${JSON.stringify(labels)}\n`;
}

const nodesOf = (text: string, defaultNodes?: number) => parseScenario(text, 'scn.yaml', {}, { defaultNodes }).settings.nodes;

describe('scenario nodes', () => {
  it(`defaults to ${DEFAULT_NODE_COUNT} nodes named node-1.. when nothing sets them`, () => {
    expect(DEFAULT_NODE_COUNT).toBe(3);
    expect(nodesOf(SIM)).toEqual(['node-1', 'node-2', 'node-3']);
    // A scenario without any Simulation document is the same.
    expect(nodesOf('apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n')).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('takes a count, named with nodeNamePrefix', () => {
    expect(nodesOf(`${SIM}nodes: 5\n`)).toEqual(['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
    expect(nodesOf(`${SIM}nodes: 2\nnodeNamePrefix: worker-\n`)).toEqual(['worker-1', 'worker-2']);
  });

  it('takes explicit names, in order and without duplicates', () => {
    expect(nodesOf(`${SIM}nodes: [cp-1, worker-b, worker-a, worker-b]\n`)).toEqual(['cp-1', 'worker-b', 'worker-a']);
  });

  it('makes the Node objects alone the nodes when Simulation.nodes is unset', () => {
    const s = parseScenario(`${SIM}${node('cp-1', { 'topology.kubernetes.io/zone': 'a' })}${node('worker-a')}`, 'scn.yaml');
    expect(s.settings.nodes).toEqual(['cp-1', 'worker-a']);
    // The Node objects stay objects of the scenario (SimCluster creates them before the kubelets register).
    expect(s.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(['Node/cp-1', 'Node/worker-a']);
    expect(s.notes).toEqual([]);
  });

  it('counts the Node objects in a numeric Simulation.nodes and names only the rest', () => {
    expect(nodesOf(`${SIM}nodes: 4\n${node('cp-1')}${node('gpu-1')}`)).toEqual(['cp-1', 'gpu-1', 'node-1', 'node-2']);
    // A Node object that already has a generated name is not generated twice.
    expect(nodesOf(`${SIM}nodes: 3\n${node('node-2')}`)).toEqual(['node-2', 'node-1', 'node-3']);
    expect(nodesOf(`${SIM}nodes: 2\n${node('cp-1')}${node('gpu-1')}`)).toEqual(['cp-1', 'gpu-1']);
  });

  it('accepts Node objects that are among the listed names, and refuses one that is not, by name', () => {
    expect(nodesOf(`${SIM}nodes: [cp-1, worker-a, worker-b]\n${node('worker-a')}`)).toEqual(['cp-1', 'worker-a', 'worker-b']);
    const text = `${SIM}nodes: [cp-1, worker-a]\n${node('worker-a')}${node('stray-7')}`;
    expect(() => parseScenario(text, 'scn.yaml')).toThrow('scn.yaml: document 1: Node objects stray-7 are not among Simulation.nodes (cp-1, worker-a)');
  });

  it('refuses a count smaller than the number of Node objects', () => {
    const text = `${SIM}nodes: 1\n${node('cp-1')}${node('worker-a')}`;
    expect(() => parseScenario(text, 'scn.yaml')).toThrow('scn.yaml: document 1: Simulation.nodes is 1 but the scenario declares 2 Node objects; the count includes them');
  });

  it('applies --nodes unless the scenario names its nodes, and notes when it is ignored', () => {
    const plain = parseScenario(SIM, 'scn.yaml', {}, { defaultNodes: 5 });
    expect(plain.settings.nodes).toEqual(['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
    expect(plain.notes).toEqual([]);

    // A count is a default: --nodes replaces it (still counting the Node objects).
    const counted = parseScenario(`${SIM}nodes: 2\n${node('cp-1')}`, 'scn.yaml', {}, { defaultNodes: 3 });
    expect(counted.settings.nodes).toEqual(['cp-1', 'node-1', 'node-2']);
    expect(counted.notes).toEqual([]);
    expect(() => parseScenario(`${SIM}nodes: 2\n${node('cp-1')}${node('w')}`, 'scn.yaml', {}, { defaultNodes: 1 })).toThrow('--nodes is 1 but the scenario declares 2 Node objects; the count includes them');

    const declared = parseScenario(`${SIM}${node('cp-1')}${node('worker-a')}`, 'scn.yaml', {}, { defaultNodes: 5 });
    expect(declared.settings.nodes).toEqual(['cp-1', 'worker-a']);
    expect(declared.notes).toEqual(['--nodes 5 ignored: scn.yaml names its nodes (2 Node objects)']);
  });

  it('counts a Node object declared twice (an included one overridden by the scenario) once', () => {
    // Objects of the same name are applied in order, the later updating the earlier: one node.
    const twice = `${node('cp-1')}${node('worker-a')}${node('cp-1', { 'example.com/override': 'yes' })}`;
    expect(nodesOf(`${SIM}${twice}`)).toEqual(['cp-1', 'worker-a']);
    expect(nodesOf(`${SIM}nodes: 3\n${twice}`)).toEqual(['cp-1', 'worker-a', 'node-1']);
    expect(nodesOf(`${SIM}nodes: 2\n${twice}`)).toEqual(['cp-1', 'worker-a']);
  });

  it('does not take other kinds or API groups named Node for nodes', () => {
    const text = `${SIM}---\napiVersion: crd.projectcalico.org/v1\nkind: Node\nmetadata: {name: calico-view}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: node-x}\n`;
    expect(nodesOf(text)).toEqual(['node-1', 'node-2', 'node-3']);
  });
});

describe('scenario include', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-nodes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scenarios', 'sources'), { recursive: true });
  mkdirSync(join(dir, 'shared'), { recursive: true });
  writeFileSync(join(dir, 'scenarios', 'sources', 'cni.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: cni}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cni-config, namespace: cni}\n');
  writeFileSync(join(dir, 'shared', 'nodes.yaml'), `${node('cp-1').slice(4)}${node('worker-a')}`);
  writeFileSync(join(dir, 'shared', 'with-settings.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n${SIM}nodes: 2\n`);

  const scenario = (name: string, text: string) => {
    const path = join(dir, 'scenarios', name);
    writeFileSync(path, text);
    return path;
  };

  it('reads included files relative to the scenario file, before its own objects and in order', () => {
    const path = scenario('ok.yaml', `${SIM}include:\n- sources/cni.yaml\n- ../shared/nodes.yaml\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n`);
    // The working directory is not where the scenario is: paths are relative to the scenario.
    expect(process.cwd()).not.toBe(join(dir, 'scenarios'));
    const s = loadScenarioFile(path);
    expect(s.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`)).toEqual(['Namespace/cni', 'ConfigMap/cni-config', 'Node/cp-1', 'Node/worker-a', 'Namespace/shop']);
    expect(s.objects.map((o) => o.source)).toEqual([
      join(dir, 'scenarios', 'sources', 'cni.yaml'),
      join(dir, 'scenarios', 'sources', 'cni.yaml'),
      join(dir, 'shared', 'nodes.yaml'),
      join(dir, 'shared', 'nodes.yaml'),
      path,
    ]);
    // Node objects from an included file are the scenario's nodes.
    expect(s.settings.nodes).toEqual(['cp-1', 'worker-a']);
    expect(s.settings.include).toEqual(['sources/cni.yaml', '../shared/nodes.yaml']);
  });

  it('checks included Node objects against Simulation.nodes too', () => {
    const path = scenario('strict.yaml', `${SIM}nodes: [cp-1]\ninclude: [../shared/nodes.yaml]\n`);
    expect(() => loadScenarioFile(path)).toThrow(/Node objects worker-a are not among Simulation\.nodes \(cp-1\)/);
  });

  it('names a missing include (as written and resolved) and the including scenario', () => {
    const path = scenario('missing.yaml', `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n${SIM}include: [sources/nope.yaml]\n`);
    expect(() => loadScenarioFile(path)).toThrow(`${path}: document 2: include: cannot read sources/nope.yaml (${join(dir, 'scenarios', 'sources', 'nope.yaml')}): ENOENT`);
  });

  it('refuses an included file holding a Simulation document, naming that file and document', () => {
    const path = scenario('nested.yaml', `${SIM}include: [../shared/with-settings.yaml]\n`);
    expect(() => loadScenarioFile(path)).toThrow(/shared\/with-settings\.yaml: document 2 \(line \d+\): an included file holds Kubernetes objects only; put Simulation settings in the including scenario/);
  });

  it('resolves includes of scenario text (no file) against the working directory, absolute paths as they are', () => {
    const abs = parseScenario(`${SIM}include: [${join(dir, 'shared', 'nodes.yaml')}]\n`, '<scenario text>');
    expect(abs.settings.nodes).toEqual(['cp-1', 'worker-a']);
    expect(() => parseScenario(`${SIM}include: [surely-not-here-${process.pid}.yaml]\n`, '<scenario text>')).toThrow(`(${join(process.cwd(), `surely-not-here-${process.pid}.yaml`)})`);
  });
});
