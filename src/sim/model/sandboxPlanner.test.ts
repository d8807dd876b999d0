import { describe, expect, it } from 'vitest';
import { recognizeAgent } from './agentRecognizer.js';
import { allCniManifests, configMapLookupOf, findObject, podFromDaemonSet } from './testing/modelFixtures.js';
import { parseNetworksAnnotation, planSandbox, type SandboxFile, type SandboxRequest } from './sandboxPlanner.js';

const CNI_DIR = '/etc/kubernetes/cni/net.d';
const objects = allCniManifests(CNI_DIR);
const configMaps = configMapLookupOf(objects);

// The files each seed DaemonSet's pod writes, as the node would hold them.
function filesOf(...dsNames: string[]): SandboxFile[] {
  const files = new Map<string, SandboxFile>();
  for (const ds of dsNames) {
    const spec = recognizeAgent(podFromDaemonSet(findObject(objects, 'DaemonSet', ds), 'node-1'), configMaps, { cniConfDir: CNI_DIR, nodeName: 'node-1', clusterCIDR: '10.244.0.0/16' });
    for (const f of spec?.files ?? []) files.set(f.name, { name: f.name, content: f.content, network: spec?.datapath?.network });
  }
  return [...files.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

function request(files: SandboxFile[], running: string[], extra: Partial<SandboxRequest> = {}): SandboxRequest {
  return { namespace: 'default', name: 'web-1', annotations: {}, files, cniConfDir: CNI_DIR, runningNetworks: new Set(running), nads: () => undefined, ...extra };
}

describe('planSandbox', () => {
  it('fails with the runtime\'s NetworkNotReady while the directory is empty', () => {
    expect(planSandbox(request([], []))).toMatchObject({ ok: false, reason: 'NetworkNotReady', message: expect.stringContaining('cni plugin not initialized') as unknown });
  });

  it('gives a Canal pod one flannel interface from 10-calico.conflist', () => {
    expect(planSandbox(request(filesOf('canal'), ['flannel']))).toEqual({
      ok: true,
      confFile: '10-calico.conflist',
      multus: false,
      attachments: [{ ifName: 'eth0', cniName: 'k8s-pod-network', network: 'flannel', source: 'file 10-calico.conflist', pluginType: 'calico' }],
    });
  });

  it('fails like calico\'s plugin while the Canal agent is not running', () => {
    const plan = planSandbox(request(filesOf('canal'), []));
    expect(plan).toMatchObject({ ok: false, reason: 'AgentNotRunning' });
    expect(!plan.ok && plan.message).toContain('plugin type="calico" name="k8s-pod-network" failed (add): stat /var/lib/calico/nodename: no such file or directory');
  });

  it('with cilium(99) and kube-multus-canal: flannel primary, cilium extra', () => {
    const plan = planSandbox(request(filesOf('canal', 'cilium', 'kube-multus-canal'), ['flannel', 'cilium']));
    expect(plan).toMatchObject({
      ok: true,
      confFile: '00-multus.conflist',
      multus: true,
      attachments: [
        { ifName: 'eth0', cniName: 'k8s-pod-network', network: 'flannel' },
        { ifName: 'net1', cniName: 'cilium', network: 'cilium', source: 'file 99-cilium.conf' },
      ],
    });
  });

  // libcni names the failing plugin after its list: the seed's list is (sic) "multusi-cni-network".
  it('fails through Multus with cilium-cni\'s socket error while the cilium agent is down', () => {
    const plan = planSandbox(request(filesOf('canal', 'cilium', 'kube-multus-canal'), ['flannel']));
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.message).toMatch(/^plugin type="multus" name="multusi-cni-network" failed \(add\): Multus: \[default\/web-1\]: error adding container to network "cilium": .*dial unix \/var\/run\/cilium\/cilium.sock: connect: no such file or directory$/);
  });

  it('after the priority swap: cilium primary, cbr0 (flannel) extra', () => {
    const plan = planSandbox(request(filesOf('canal', 'cilium', 'kube-multus-cilium'), ['flannel', 'cilium']));
    expect(plan).toMatchObject({ ok: true, attachments: [{ ifName: 'eth0', network: 'cilium' }, { ifName: 'net1', cniName: 'cbr0', network: 'flannel' }] });
  });

  it('on a migrated node 00-cilium.conf sorts before 00-multus.conflist: cilium only', () => {
    const plan = planSandbox(request(filesOf('canal', 'cilium', 'kube-multus-cilium', 'cilium-migrated'), ['cilium']));
    expect(plan).toMatchObject({ ok: true, confFile: '00-cilium.conf', multus: false, attachments: [{ network: 'cilium' }] });
  });

  it('fails when Multus names a network nothing defines', () => {
    const plan = planSandbox(request(filesOf('canal', 'kube-multus-canal'), ['flannel', 'cilium']));
    expect(plan).toMatchObject({ ok: false, reason: 'NetworkNotFound' });
    expect(!plan.ok && plan.message).toContain('cannot find a network-attachment-definition (cilium) in namespace (kube-system)');
  });

  it('resolves a name through a NetworkAttachmentDefinition first', () => {
    const nads = (ns: string, name: string) => (ns === 'kube-system' && name === 'cilium' ? { config: '{"cniVersion":"0.3.1","type":"cilium-cni"}' } : undefined);
    const plan = planSandbox(request(filesOf('canal', 'kube-multus-canal'), ['flannel', 'cilium'], { nads }));
    expect(plan).toMatchObject({ ok: true, attachments: [{ network: 'flannel' }, { cniName: 'kube-system/cilium', network: 'cilium', source: 'NetworkAttachmentDefinition kube-system/cilium' }] });
  });

  it('adds networks requested by the pod annotation, with their interface names', () => {
    const nads = (ns: string, name: string) => (ns === 'default' && name === 'extra' ? { config: '{"cniVersion":"0.3.1","name":"extra","type":"cilium-cni"}' } : undefined);
    const plan = planSandbox(request(filesOf('canal', 'cilium', 'kube-multus-canal'), ['flannel', 'cilium'], { nads, annotations: { 'k8s.v1.cni.cncf.io/networks': 'extra@eth9' } }));
    expect(plan.ok && plan.attachments.map((a) => a.ifName)).toEqual(['eth0', 'net1', 'eth9']);
  });

  it('leaves out defaultNetworks for pods in systemNamespaces', () => {
    const files = filesOf('canal', 'cilium', 'kube-multus-canal').map((f) => (f.name === '00-multus.conflist' ? { ...f, content: f.content.replace('"systemNamespaces": [""]', '"systemNamespaces": ["kube-system"]') } : f));
    const plan = planSandbox(request(files, ['flannel', 'cilium'], { namespace: 'kube-system' }));
    expect(plan.ok && plan.attachments.map((a) => a.network)).toEqual(['flannel']);
  });

  it('reports an unparsable first file as the runtime does (network not ready)', () => {
    const plan = planSandbox(request([{ name: '00-broken.conf', content: '{"name": "x", "plugins": []}' }, ...filesOf('canal')], ['flannel']));
    expect(plan).toMatchObject({ ok: false, reason: 'NetworkNotReady' });
    expect(!plan.ok && plan.message).toContain('failed to load CNI config file /etc/kubernetes/cni/net.d/00-broken.conf: network type not found');
  });
});

describe('parseNetworksAnnotation', () => {
  it('reads the short form and the JSON form', () => {
    expect(parseNetworksAnnotation('a, other/b@net5', 'ns')).toEqual({ ok: true, networks: [{ ref: 'ns/a', namespace: 'ns', ifName: undefined }, { ref: 'other/b', namespace: 'other', ifName: 'net5' }] });
    expect(parseNetworksAnnotation('[{"name":"c","interface":"eth3"}]', 'ns')).toEqual({ ok: true, networks: [{ ref: 'ns/c', namespace: 'ns', ifName: 'eth3' }] });
    expect(parseNetworksAnnotation('[{', 'ns').ok).toBe(false);
  });
});
