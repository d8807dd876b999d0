import { ApiError } from '../api/apiError.js';
import type { KubeObject } from '../store/kubeObject.js';
import { podSpecOf } from './podSpec.js';

/** A request that reaches a simulated pod's port (through pods/proxy). */
export interface PodHttpRequest {
  method: string;
  port: number;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the simulated pod answers. */
export interface PodHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Serves HTTP for the pods it matches (e.g. the probe agents' real code). */
export type PodHttpHandler = (pod: KubeObject, req: PodHttpRequest) => Promise<PodHttpResponse>;

/** Handlers for simulated pods' HTTP ports: the first registered handler whose match accepts the pod serves it. */
export class PodHttpHandlers {
  private readonly handlers: { match: (pod: KubeObject) => boolean; handler: PodHttpHandler }[] = [];

  /** Registers a handler; returns a function that removes it. */
  register(match: (pod: KubeObject) => boolean, handler: PodHttpHandler): () => void {
    const entry = { match, handler };
    this.handlers.push(entry);
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** The handler serving a pod, if any. */
  find(pod: KubeObject): PodHttpHandler | undefined {
    return this.handlers.find((h) => h.match(pod))?.handler;
  }
}

/** The API server's answer when nothing listens at the pod's address: 503, as kube-apiserver words it. */
export function connectionRefused(ip: string, port: number | string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${ip}:${port}: connect: connection refused`);
}

/**
 * The port a pods/proxy request targets: the number given, a named container port, or — when none is
 * given — the pod's first declared container port (kube-apiserver's rule), else 80.
 */
export function resolvePodPort(pod: KubeObject, port: string | undefined): number | undefined {
  const ports = (podSpecOf(pod).containers ?? []).flatMap((c) => c.ports ?? []);
  if (port === undefined || port === '') return ports[0]?.containerPort ?? 80;
  if (/^\d+$/.test(port)) return Number(port);
  return ports.find((p) => p.name === port)?.containerPort;
}
