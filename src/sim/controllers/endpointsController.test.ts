import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../store/kubeObject.js';
import { DeploymentController } from './deploymentController.js';
import { EndpointsController } from './endpointsController.js';
import { buildEndpointSubsets } from './endpointSubsets.js';
import { isPodReady } from './podStatus.js';
import { ReplicaSetController } from './replicaSetController.js';
import { Scheduler } from './scheduler.js';
import { makeDeployment, makeNode, podsIn, startFixture, type ControllerFixture } from './testing/clusterFixture.js';
import { waitFor } from './testing/waitFor.js';

let fx: ControllerFixture;

const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default', labels: { tier: 'front' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090, targetPort: 9090 }] },
};

const endpoints = () => fx.store.get('endpoints', 'default', 'web');

describe('buildEndpointSubsets (pure)', () => {
  const pod = (name: string, ip: string, ready: boolean, ports = [{ name: 'http', containerPort: 8080 }]): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });

  it('groups pods by the ports they resolve and splits ready from not ready', () => {
    const subsets = buildEndpointSubsets(service, [pod('a', '10.0.0.2', true), pod('b', '10.0.0.1', false), pod('c', '10.0.0.3', true, [])]);
    expect(subsets).toEqual([
      {
        addresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }],
      },
      { addresses: [{ ip: '10.0.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }], ports: [{ name: 'metrics', port: 9090, protocol: 'TCP' }] },
    ]);
  });

  it('leaves out pods without an IP and terminating pods', () => {
    const noIp = { ...pod('a', '', true) };
    const leaving = { ...pod('b', '10.0.0.9', true), metadata: { name: 'b', namespace: 'default', uid: 'u', deletionTimestamp: '2030-01-01T00:00:00Z' } };
    expect(buildEndpointSubsets(service, [noIp, leaving])).toEqual([]);
  });
});

describe('EndpointsController', () => {
  afterEach(() => fx.stop());

  it('lists ready pod IPs with targetRef and nodeName, follows readiness, and goes with the Service', async () => {
    fx = startFixture((ctx) => [new EndpointsController(ctx), new DeploymentController(ctx), new ReplicaSetController(ctx), new Scheduler(ctx)]);
    fx.create('nodes', makeNode('n1'));
    fx.create('services', service);
    await waitFor(() => Boolean(endpoints()));
    expect(endpoints()!.subsets).toBeUndefined();
    expect(endpoints()!.metadata.labels).toEqual({ tier: 'front' });
    fx.create('apps/deployments', makeDeployment('web', 2));
    await waitFor(() => podsIn(fx.store).filter(isPodReady).length === 2 && endpoints()?.subsets?.[0]?.addresses?.length === 2, 5000, 'two ready addresses');
    const pods = podsIn(fx.store);
    const subset = endpoints()!.subsets[0];
    expect(subset.addresses.map((a: { ip: string }) => a.ip).sort()).toEqual(pods.map((p) => p.status.podIP).sort());
    expect(subset.addresses[0]).toMatchObject({ nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default' } });
    expect(subset.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }]);
    fx.kubelet.setReady('default', pods[0]!.metadata.name!, false);
    await waitFor(() => endpoints()?.subsets?.[0]?.notReadyAddresses?.length === 1 && endpoints()?.subsets?.[0]?.addresses?.length === 1);
    fx.store.delete('services', 'default', 'web');
    await waitFor(() => !endpoints(), 5000, 'endpoints removed');
  });
});
