import type { KubeObject } from '../../store/kubeObject.js';
import type { ObjectStore } from '../../store/objectStore.js';
import { kubeTime } from '../kubeTime.js';

/**
 * A stand-in for the node model in controller tests: bound pods become Running and Ready with an
 * IP shortly after binding, and pods marked for deletion are removed shortly after. Pods named in
 * `unready` are started but kept not ready.
 */
export class FakeKubelet {
  readonly unready = new Set<string>();
  private stopWatch: (() => void) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextIp = 1;

  constructor(
    private readonly store: ObjectStore,
    private readonly delayMs = 2,
  ) {}

  start(): this {
    this.stopWatch = this.store.watch({ resource: 'pods' }, (ev) => {
      if (ev.type !== 'DELETED') this.later(() => this.sync(ev.object));
    });
    for (const p of this.store.list('pods').items) this.later(() => this.sync(p));
    return this;
  }

  stop(): void {
    this.stopWatch?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Makes a running pod ready or not ready. */
  setReady(namespace: string, name: string, ready: boolean): void {
    if (ready) this.unready.delete(`${namespace}/${name}`);
    else this.unready.add(`${namespace}/${name}`);
    this.store.mutate('pods', namespace, name, (p) => setReady(p, ready), { part: 'status' });
  }

  private later(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, this.delayMs);
    this.timers.add(t);
  }

  private sync(seen: KubeObject): void {
    const ns = seen.metadata.namespace;
    const name = seen.metadata.name ?? '';
    const pod = this.store.get('pods', ns, name);
    if (!pod || pod.metadata.uid !== seen.metadata.uid || !pod.spec?.nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      this.store.delete('pods', ns, name, { uid: pod.metadata.uid });
      return;
    }
    if (pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const ip = `10.0.${Math.floor(this.nextIp / 250)}.${(this.nextIp % 250) + 1}`;
    this.nextIp++;
    this.store.mutate('pods', ns, name, (p) => {
      p.status = { ...(p.status ?? {}), phase: 'Running', podIP: ip, podIPs: [{ ip }], startTime: kubeTime() };
      setReady(p, !this.unready.has(`${ns}/${name}`));
    }, { part: 'status' });
  }
}

function setReady(pod: KubeObject, ready: boolean): void {
  const status = (pod.status ??= {});
  const conditions = ((status.conditions ??= []) as { type: string; status: string; lastTransitionTime?: string }[]).filter((c) => c.type !== 'Ready');
  conditions.push({ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: kubeTime() });
  status.conditions = conditions;
}
