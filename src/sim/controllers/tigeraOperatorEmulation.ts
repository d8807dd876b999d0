import type { KubeObject, WatchEvent } from '../store/kubeObject.js';
import { deleteNow } from './podDeletion.js';
import { QueuedController, type WatchMapping } from './queuedController.js';
import { jsonEqual } from './stableJson.js';

// The part of the Tigera operator a migration meets, so a scenario holding an operator install
// behaves like one: the operator renders calico-system from the Installation, so an edit made
// directly to its objects is reverted, an override in the Installation
// (spec.calicoNodeDaemonSet.spec.template.spec.nodeSelector) lands in the DaemonSet, the node
// address autodetection setting becomes calico-node's IP_AUTODETECTION_METHOD, and deleting the
// Installation tears calico-system down. All of it only while the operator itself runs.
// The scenario's calico-system objects are taken as the operator's rendering of the Installation.

const INSTALLATIONS = 'operator.tigera.io/installations';
const DAEMONSETS = 'apps/daemonsets';
const DEPLOYMENTS = 'apps/deployments';
const RENDERED_NAMESPACE = 'calico-system';
const OPERATOR_NAMESPACE = 'tigera-operator';
const CALICO_NODE = 'calico-node';
const KEY = 'default';

type Template = { spec?: { nodeSelector?: Record<string, string>; containers?: { name: string; env?: { name: string; value?: string }[] }[] } };

/** The IP_AUTODETECTION_METHOD the operator renders for nodeAddressAutodetectionV4 (pkg/render/node.go). */
export function autodetectionEnv(a: Record<string, unknown> | undefined): string {
  if (!a) return 'first-found';
  if (a.kubernetes === 'NodeInternalIP') return 'kubernetes-internal-ip';
  if (typeof a.interface === 'string') return `interface=${a.interface}`;
  if (typeof a.skipInterface === 'string') return `skip-interface=${a.skipInterface}`;
  if (typeof a.canReach === 'string') return `can-reach=${a.canReach}`;
  if (Array.isArray(a.cidrs)) return `cidr=${(a.cidrs as string[]).join(',')}`;
  return 'first-found';
}

/** The DaemonSet template the operator renders: its first rendering with the Installation's overrides. */
export function renderedTemplate(baseline: Template, installation: KubeObject): Template {
  const t = structuredClone(baseline);
  const spec = (installation.spec ?? {}) as { calicoNodeDaemonSet?: { spec?: { template?: Template } }; calicoNetwork?: { nodeAddressAutodetectionV4?: Record<string, unknown> } };
  const selector = spec.calicoNodeDaemonSet?.spec?.template?.spec?.nodeSelector;
  if (selector) t.spec = { ...t.spec, nodeSelector: { ...(t.spec?.nodeSelector ?? {}), ...selector } };
  const node = t.spec?.containers?.find((c) => c.name === CALICO_NODE);
  const env = node?.env?.find((e) => e.name === 'IP_AUTODETECTION_METHOD');
  if (env) env.value = autodetectionEnv(spec.calicoNetwork?.nodeAddressAutodetectionV4);
  return t;
}

/** The operator's reconciliation of the Installation into calico-system (see the module comment). */
export class TigeraOperatorEmulation extends QueuedController {
  readonly name = 'tigera-operator (emulated)';
  private baseline: Template | undefined;
  private everSeen = false;

  protected watches(): WatchMapping[] {
    const all = () => [KEY];
    return [
      { resource: INSTALLATIONS, keys: all },
      { resource: DAEMONSETS, keys: (ev: WatchEvent) => (ev.object.metadata.namespace === RENDERED_NAMESPACE ? [KEY] : []) },
      { resource: DEPLOYMENTS, keys: (ev: WatchEvent) => (ev.object.metadata.namespace === OPERATOR_NAMESPACE ? [KEY] : []) },
    ];
  }

  protected initialKeys(): Iterable<string> {
    return [KEY];
  }

  protected reconcile(): void {
    const ds = this.ctx.store.get(DAEMONSETS, RENDERED_NAMESPACE, CALICO_NODE);
    const installation = this.installation();
    if (ds && !this.baseline) this.baseline = structuredClone((ds.spec?.template ?? {}) as Template);
    if (installation) this.everSeen = true;
    if (!this.operatorRunning()) return;
    if (!installation) {
      if (this.everSeen) this.tearDown();
      return;
    }
    if (!ds || !this.baseline) return;
    const desired = renderedTemplate(this.baseline, installation);
    this.ctx.store.mutate(DAEMONSETS, RENDERED_NAMESPACE, CALICO_NODE, (o) => {
      if (jsonEqual(o.spec?.template, desired)) return false;
      o.spec = { ...o.spec, template: desired };
    });
  }

  private installation(): KubeObject | undefined {
    return this.ctx.store.get(INSTALLATIONS, undefined, 'default');
  }

  private operatorRunning(): boolean {
    return this.ctx.store.peekInNamespace(DEPLOYMENTS, OPERATOR_NAMESPACE).some((d) => (d.status?.availableReplicas ?? 0) > 0);
  }

  // The Installation's finalizer makes the operator remove what it rendered before it lets go.
  private tearDown(): void {
    for (const resource of [DAEMONSETS, DEPLOYMENTS]) {
      for (const o of this.ctx.store.peekInNamespace(resource, RENDERED_NAMESPACE)) {
        deleteNow(this.ctx.store, resource, o);
      }
    }
  }
}
