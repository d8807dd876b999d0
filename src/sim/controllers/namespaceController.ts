import { resourceKey } from '../api/resourceRegistry.js';
import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { createAdmitted } from './objectCreation.js';
import { deletePod, ignoreNotFound } from './podDeletion.js';
import { QueuedController, keysOf, type WatchMapping } from './queuedController.js';

/** How often a terminating namespace is looked at again while content remains. */
const CONTENT_RECHECK_MS = 100;
/**
 * How long after a namespace starts terminating its content deletion begins. The real controller
 * works from a queue, re-reads discovery and lists every resource before deleting, so a client
 * deleting a file's objects one by one right after the namespace (kubectl delete -f) still finds
 * them; deleting them at once here made kubectl report NotFound for everything after the Namespace.
 */
export const CONTENT_DELETION_DELAY_MS = 1000;

/** A namespace being deleted: deletionTimestamp set or phase Terminating. */
export function isTerminating(ns: KubeObject): boolean {
  return Boolean(ns.metadata.deletionTimestamp) || ns.status?.phase === 'Terminating';
}

/**
 * The namespace controller (pkg/controller/namespace) and the service account controller's
 * `default` account: a terminating namespace has every namespaced object in it deleted (pods
 * gracefully), and once nothing is left its spec.finalizers are cleared and it is removed. Every
 * active namespace keeps a `default` ServiceAccount.
 */
export class NamespaceController extends QueuedController {
  readonly name = 'namespace-controller';
  private readonly terminating = new Set<string>();
  /** When each terminating namespace was first seen terminating (ms). */
  private readonly terminatingSince = new Map<string, number>();

  protected watches(): WatchMapping[] {
    return [
      { resource: 'namespaces', keys: (ev) => this.trackNamespace(ev) },
      { resource: 'serviceaccounts', keys: (ev) => (ev.type === 'DELETED' && ev.object.metadata.name === 'default' ? [ev.object.metadata.namespace ?? ''] : []) },
      { keys: (ev) => (ev.type === 'DELETED' && ev.object.metadata.namespace && this.terminating.has(ev.object.metadata.namespace) ? [ev.object.metadata.namespace] : []) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    for (const ns of this.ctx.store.peekAll('namespaces')) if (isTerminating(ns)) this.terminating.add(ns.metadata.name ?? '');
    return keysOf(this.ctx.store.peekAll('namespaces'));
  }

  protected reconcile(name: string): void {
    const ns = this.ctx.store.peek('namespaces', undefined, name);
    if (!ns) return;
    if (isTerminating(ns)) this.terminate(ns);
    else this.ensureDefaultServiceAccount(name);
  }

  private trackNamespace(ev: WatchEvent): string[] {
    const name = ev.object.metadata.name ?? '';
    if (ev.type !== 'DELETED' && isTerminating(ev.object)) this.terminating.add(name);
    else this.terminating.delete(name);
    return ev.type === 'DELETED' ? [] : [name];
  }

  /** Deletes the namespace's content; removes the namespace once the content is gone. */
  private terminate(ns: KubeObject): void {
    const name = ns.metadata.name ?? '';
    const since = this.terminatingSince.get(name) ?? Date.now();
    this.terminatingSince.set(name, since);
    const wait = since + CONTENT_DELETION_DELAY_MS - Date.now();
    if (wait > 0 && this.hasContent(name)) {
      this.queue.addAfter(name, wait);
      return;
    }
    let remaining = 0;
    for (const resource of this.namespacedResources()) {
      const objects = this.ctx.store.peekInNamespace(resource, name);
      remaining += objects.length;
      for (const o of objects) {
        if (o.metadata.deletionTimestamp) continue;
        if (resource === 'pods') deletePod(this.ctx.store, o);
        else ignoreNotFound(() => this.ctx.store.delete(resource, name, o.metadata.name ?? ''));
      }
    }
    if (remaining > 0 && this.hasContent(name)) {
      this.queue.addAfter(name, CONTENT_RECHECK_MS);
      return;
    }
    // The finalize step: with spec.finalizers cleared the API server removes the namespace.
    this.ctx.store.mutate('namespaces', undefined, name, (o) => {
      if (!o.spec?.finalizers?.length) return false;
      o.spec = { ...o.spec, finalizers: [] };
    });
    ignoreNotFound(() => this.ctx.store.delete('namespaces', undefined, name));
    this.terminatingSince.delete(name);
  }

  private hasContent(namespace: string): boolean {
    return this.namespacedResources().some((r) => this.ctx.store.peekInNamespace(r, namespace).length > 0);
  }

  private namespacedResources(): string[] {
    return [...new Set(this.ctx.registry.all().filter((t) => t.namespaced).map((t) => resourceKey(t.group, t.plural)))];
  }

  private ensureDefaultServiceAccount(namespace: string): void {
    if (this.ctx.store.peek('serviceaccounts', namespace, 'default')) return;
    ignoreNotFound(() => createAdmitted(this.ctx.store, 'serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }));
  }
}
