import { podNetworkInterfaces } from '../connectivity/agent/peerDiscovery.js';
import type { Pod } from '../kube/kubeTypes.js';
import { ipInCidrText } from '../net/ipv4.js';
import { usesPodNetwork } from '../ops/deleteNodePods.js';

// What a step promises about the pods on a node once it is done, and the rule that checks one pod
// against that promise. Pure: the verdicts are data, the executor lists pods and reports them.

/** A step's promise about every pod-network pod on a node. */
export type NetworkExpectation =
  /** An interface on each of these CNI networks (read from Multus' network-status annotation). */
  | { kind: 'interfacesOn'; networks: string[] }
  /** The primary IP (status.podIP) is in `cidr` (network `network`), with extra interfaces on `extra`. */
  | { kind: 'primaryIn'; network: string; cidr: string; extra: string[] }
  /** The primary IP is in `cidr` and the pod has no interface on any other network. */
  | { kind: 'onlyOn'; network: string; cidr: string };

/**
 * One pod's verdict. `final` failures cannot heal: a running pod keeps the interfaces its sandbox
 * was created with, so only re-creating it changes them. Others (still starting) may.
 */
export type PodNetworkVerdict = { ok: true } | { ok: false; pod: string; lacks: string; final: boolean };

/** One line for an expectation: "an interface on both k8s-pod-network and cilium". */
export function describeExpectation(e: NetworkExpectation): string {
  switch (e.kind) {
    case 'interfacesOn':
      return `an interface on ${e.networks.length === 2 ? `both ${e.networks[0]} and ${e.networks[1]}` : e.networks.join(', ')}`;
    case 'primaryIn':
      return `its primary IP on ${e.network} (${e.cidr})${e.extra.length ? ` and an extra interface on ${e.extra.join(', ')}` : ''}`;
    case 'onlyOn':
      return `its IP on ${e.network} (${e.cidr}) and no other network`;
  }
}

/** The pods a step's promise is about: pod-network pods that are meant to run. */
export function podsUnderPromise(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => usesPodNetwork(p) && !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

function isReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Checks one pod against an expectation. */
export function checkPodNetworks(pod: Pod, e: NetworkExpectation): PodNetworkVerdict {
  const name = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
  const fail = (lacks: string, final = true): PodNetworkVerdict => ({ ok: false, pod: name, lacks, final });
  if (!isReady(pod)) return fail(`not running and ready (${pod.status?.phase ?? 'Pending'}${waitingReason(pod)})`, false);
  const interfaces = podNetworkInterfaces(pod, {});
  const names = interfaces?.map((i) => i.network) ?? [];
  const podIP = pod.status?.podIP ?? '';
  switch (e.kind) {
    case 'interfacesOn': {
      if (!interfaces) return fail('no network-status annotation: Multus did not wire this pod');
      const missing = e.networks.filter((n) => !names.includes(n));
      return missing.length ? fail(`no interface on ${missing.join(', ')} (has ${names.join(', ') || 'none'})`) : { ok: true };
    }
    case 'primaryIn': {
      if (!ipInCidrText(podIP, e.cidr)) return fail(`primary IP ${podIP || 'none'} is not on ${e.network} (${e.cidr})`);
      const missing = e.extra.filter((n) => !names.includes(n));
      return missing.length ? fail(`no extra interface on ${missing.join(', ')} (has ${names.join(', ') || 'no network-status annotation'})`) : { ok: true };
    }
    case 'onlyOn': {
      if (!ipInCidrText(podIP, e.cidr)) return fail(`IP ${podIP || 'none'} is not on ${e.network} (${e.cidr})`);
      const others = names.filter((n) => n !== e.network);
      return others.length ? fail(`still has interfaces on ${others.join(', ')}`) : { ok: true };
    }
  }
}

function waitingReason(p: Pod): string {
  const statuses = (p.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } | undefined)?.containerStatuses ?? [];
  const reason = statuses.map((s) => s.state?.waiting?.reason).find((r) => r);
  const sandbox = (p.status?.conditions ?? []).find((c) => c.type === 'PodReadyToStartContainers' && c.status === 'False');
  return reason ? `, ${reason}` : sandbox ? ', no sandbox yet' : '';
}

/** Every failing verdict for the pods on a node. */
export function checkNodePods(pods: readonly Pod[], e: NetworkExpectation): Extract<PodNetworkVerdict, { ok: false }>[] {
  return podsUnderPromise(pods)
    .map((p) => checkPodNetworks(p, e))
    .filter((v): v is Extract<PodNetworkVerdict, { ok: false }> => !v.ok);
}
