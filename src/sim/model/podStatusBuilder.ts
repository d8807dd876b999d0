import { createHash } from 'node:crypto';
import type { KubeObject } from '../store/kubeObject.js';
import { podSpecOf, type Container } from './podSpec.js';

// The pod status a kubelet posts, shaped closely enough that `kubectl get pods -o wide`,
// `kubectl wait --for=condition=Ready` and rollout status read it as they read a real one.

/** Inputs for a running pod's status. */
export interface RunningStatusInput {
  hostIP: string;
  podIPs: string[];
  /** When the kubelet first saw the pod (status.startTime). */
  startTime: string;
  /** When the containers started. */
  startedAt: string;
  ready: boolean;
  now: string;
}

/** status for a pod whose containers run (readiness as given). */
export function runningPodStatus(pod: KubeObject, input: RunningStatusInput): Record<string, unknown> {
  const spec = podSpecOf(pod);
  const containers = spec.containers ?? [];
  const notReady = input.ready ? undefined : `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`;
  return {
    phase: 'Running',
    conditions: [
      condition('PodReadyToStartContainers', true, input.startedAt),
      condition('Initialized', true, input.startedAt),
      condition('Ready', input.ready, input.now, notReady && 'ContainersNotReady', notReady),
      condition('ContainersReady', input.ready, input.now, notReady && 'ContainersNotReady', notReady),
      condition('PodScheduled', true, input.startTime),
    ],
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: input.podIPs[0] ?? null,
    podIPs: input.podIPs.length ? input.podIPs.map((ip) => ({ ip })) : null,
    startTime: input.startTime,
    containerStatuses: containers.map((c) => ({
      ...identity(pod, c),
      state: { running: { startedAt: input.startedAt } },
      lastState: {},
      ready: input.ready,
      restartCount: 0,
      started: true,
    })),
    initContainerStatuses: (spec.initContainers ?? []).map((c) => ({
      ...identity(pod, c),
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: input.startTime, finishedAt: input.startedAt, containerID: containerId(pod, c) } },
      lastState: {},
      ready: true,
      restartCount: 0,
      started: false,
    })),
  };
}

/** status for a pod whose containers all ran to completion (restartPolicy Never or OnFailure): Succeeded. */
export function succeededPodStatus(pod: KubeObject, input: { hostIP: string; podIPs: string[]; startTime: string; startedAt: string; finishedAt: string }): Record<string, unknown> {
  const spec = podSpecOf(pod);
  const done = (c: Container) => ({
    ...identity(pod, c),
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: input.startedAt, finishedAt: input.finishedAt, containerID: containerId(pod, c) } },
    lastState: {},
    ready: false,
    restartCount: 0,
    started: false,
  });
  return {
    phase: 'Succeeded',
    conditions: [
      condition('PodReadyToStartContainers', false, input.finishedAt),
      condition('Initialized', true, input.startedAt),
      condition('Ready', false, input.finishedAt, 'PodCompleted'),
      condition('ContainersReady', false, input.finishedAt, 'PodCompleted'),
      condition('PodScheduled', true, input.startTime),
    ],
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: input.podIPs[0] ?? null,
    podIPs: input.podIPs.length ? input.podIPs.map((ip) => ({ ip })) : null,
    startTime: input.startTime,
    containerStatuses: (spec.containers ?? []).map(done),
    initContainerStatuses: (spec.initContainers ?? []).map(done),
  };
}

/**
 * status for a pod the kubelet cannot start yet (sandbox or volume setup failing): Pending, its
 * containers waiting in ContainerCreating (PodInitializing when it has init containers, as the
 * kubelet reports), the failure as the waiting message.
 */
export function pendingPodStatus(pod: KubeObject, input: { hostIP: string; startTime: string; now: string; message: string; reason?: string }): Record<string, unknown> {
  const spec = podSpecOf(pod);
  const containers = spec.containers ?? [];
  const inits = spec.initContainers ?? [];
  const reason = input.reason ?? (inits.length ? 'PodInitializing' : 'ContainerCreating');
  const waiting = (c: Container) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: '',
    state: { waiting: { reason, message: input.message } },
    lastState: {},
    ready: false,
    restartCount: 0,
    started: false,
  });
  const names = `[${containers.map((c) => c.name).join(' ')}]`;
  return {
    phase: 'Pending',
    conditions: [
      condition('PodReadyToStartContainers', false, input.now),
      inits.length
        ? condition('Initialized', false, input.now, 'ContainersNotInitialized', `containers with incomplete status: [${inits.map((c) => c.name).join(' ')}]`)
        : condition('Initialized', true, input.startTime),
      condition('Ready', false, input.now, 'ContainersNotReady', `containers with unready status: ${names}`),
      condition('ContainersReady', false, input.now, 'ContainersNotReady', `containers with unready status: ${names}`),
      condition('PodScheduled', true, input.startTime),
    ],
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: null,
    podIPs: null,
    startTime: input.startTime,
    containerStatuses: containers.map(waiting),
    initContainerStatuses: inits.map((c) => ({ ...waiting(c), state: { waiting: { reason: 'PodInitializing', message: input.message } } })),
  };
}

function condition(type: string, ok: boolean, at: string, reason?: string, message?: string): Record<string, unknown> {
  return { type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function identity(pod: KubeObject, c: Container): Record<string, unknown> {
  const image = c.image ?? '';
  const repo = image.split('@')[0]!.replace(/:[^/:]+$/, '');
  return { name: c.name, image, imageID: `${repo}@sha256:${sha256(image)}`, containerID: containerId(pod, c) };
}

function containerId(pod: KubeObject, c: Container): string {
  return `containerd://${sha256(`${pod.metadata.uid ?? pod.metadata.name ?? ''}/${c.name}`)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A sandbox id as containerd prints it in errors (stable per pod). */
export function sandboxIdOf(pod: KubeObject): string {
  return sha256(`sandbox/${pod.metadata.uid ?? pod.metadata.name ?? ''}`);
}
