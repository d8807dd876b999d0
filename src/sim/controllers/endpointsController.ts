import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { mapSelectorRequirements, matchesMapSelector } from '../store/labelSelector.js';
import { buildEndpointSubsets } from './endpointSubsets.js';
import { createAdmitted } from './objectCreation.js';
import { deleteNow } from './podDeletion.js';
import { QueuedController, keyOf, keysOf, splitKey, type WatchMapping } from './queuedController.js';
import { jsonEqual } from './stableJson.js';

const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The labels Endpoints get: the Service's, plus the headless marker for clusterIP None. */
function endpointsLabels(svc: KubeObject): Record<string, string> {
  const labels = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/**
 * The endpoints controller (pkg/controller/endpoint): for every Service with a selector, an
 * Endpoints object of the same name listing the selected pods' IPs (ready and not ready) with the
 * Service's ports resolved; it goes when the Service goes. Services without a selector are left
 * to whoever manages their Endpoints.
 */
export class EndpointsController extends QueuedController {
  readonly name = 'endpoints-controller';

  protected watches(): WatchMapping[] {
    return [
      { resource: 'services', keys: (ev) => [keyOf(ev.object)] },
      // Only deletions: Endpoints someone else created for a Service-less name are not ours to remove.
      { resource: 'endpoints', keys: (ev) => (ev.type === 'DELETED' ? [keyOf(ev.object)] : []) },
      { resource: 'pods', keys: (ev) => this.servicesOfPod(ev) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return keysOf(this.ctx.store.peekAll('services'));
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const svc = this.ctx.store.peek('services', namespace, name);
    const current = this.ctx.store.peek('endpoints', namespace, name);
    if (!svc) {
      if (current) deleteNow(this.ctx.store, 'endpoints', current);
      return;
    }
    if (!svc.spec?.selector || svc.metadata.deletionTimestamp) return;
    const selector = mapSelectorRequirements(svc.spec.selector);
    const pods = selector ? this.ctx.store.selectByLabels('pods', namespace ?? '', selector) : [];
    const subsets = buildEndpointSubsets(svc, pods);
    const labels = endpointsLabels(svc);
    if (!current) {
      const ep: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, ...(subsets.length ? { subsets } : {}) };
      createAdmitted(this.ctx.store, 'endpoints', ep);
      return;
    }
    this.ctx.store.mutate('endpoints', namespace, name, (ep) => {
      if (jsonEqual(ep.subsets ?? [], subsets) && jsonEqual(ep.metadata.labels ?? {}, labels)) return false;
      ep.metadata.labels = labels;
      if (subsets.length) ep.subsets = subsets;
      else delete ep.subsets;
    });
  }

  /** Services in the pod's namespace whose selector matches the pod now or before the change. */
  private servicesOfPod(ev: WatchEvent): string[] {
    const ns = ev.object.metadata.namespace;
    const labelSets = [ev.object.metadata.labels, ev.oldObject?.metadata.labels];
    return keysOf(this.ctx.store.peekInNamespace('services', ns ?? ''), (s) => labelSets.some((l) => matchesMapSelector(l, s.spec?.selector)));
  }
}
