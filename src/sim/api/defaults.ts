import type { KubeObject } from '../store/kubeObject.js';

// Defaulting kube-apiserver applies on decode, limited to fields that tools and controllers read.

type Obj = Record<string, unknown>;

function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const c of [...((spec.containers as Obj[] | undefined) ?? []), ...((spec.initContainers as Obj[] | undefined) ?? [])]) {
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    const image = typeof c.image === 'string' ? c.image : '';
    c.imagePullPolicy ??= image.endsWith(':latest') || !image.includes(':') ? 'Always' : 'IfNotPresent';
    for (const p of (c.ports as Obj[] | undefined) ?? []) p.protocol ??= 'TCP';
  }
}

/** Pod admission defaults: DefaultTolerationSeconds adds 300 s not-ready/unreachable NoExecute tolerations. */
function admitPod(pod: KubeObject): void {
  const spec = (pod.spec ??= {}) as Obj;
  defaultPodSpec(spec);
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  const tolerations = ((spec.tolerations as Obj[] | undefined) ?? []).slice();
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const covered = tolerations.some((t) => (t.operator === 'Exists' && !t.key && (!t.effect || t.effect === 'NoExecute')) || (t.key === key && (!t.effect || t.effect === 'NoExecute')));
    if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  pod.status ??= { phase: 'Pending', qosClass: 'BestEffort' };
}

let nextClusterIp = 10;

/** Applies defaults for the object's kind in place (create and update). */
export function applyDefaults(obj: KubeObject, opts: { creating: boolean }): void {
  const spec = obj.spec as Obj | undefined;
  switch (obj.kind) {
    case 'Pod':
      if (opts.creating) admitPod(obj);
      else defaultPodSpec(spec);
      break;
    case 'DaemonSet': {
      if (!spec) break;
      spec.revisionHistoryLimit ??= 10;
      const us = (spec.updateStrategy ??= {}) as Obj;
      us.type ??= 'RollingUpdate';
      if (us.type === 'RollingUpdate') {
        const ru = (us.rollingUpdate ??= {}) as Obj;
        ru.maxUnavailable ??= 1;
        ru.maxSurge ??= 0;
      }
      defaultPodSpec((spec.template as Obj | undefined)?.spec as Obj | undefined);
      break;
    }
    case 'Deployment': {
      if (!spec) break;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      const st = (spec.strategy ??= {}) as Obj;
      st.type ??= 'RollingUpdate';
      if (st.type === 'RollingUpdate') {
        const ru = (st.rollingUpdate ??= {}) as Obj;
        ru.maxUnavailable ??= '25%';
        ru.maxSurge ??= '25%';
      }
      defaultPodSpec((spec.template as Obj | undefined)?.spec as Obj | undefined);
      break;
    }
    case 'ReplicaSet':
      if (!spec) break;
      spec.replicas ??= 1;
      defaultPodSpec((spec.template as Obj | undefined)?.spec as Obj | undefined);
      break;
    case 'StatefulSet': {
      // SetDefaults_StatefulSet (1.35). kubectl rollout status reads updateStrategy without
      // defaulting it, and an explicit type RollingUpdate keeps rollingUpdate (and so partition)
      // unset, as upstream. No maxUnavailable: its feature gate is off by default.
      if (!spec) break;
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.revisionHistoryLimit ??= 10;
      const us = (spec.updateStrategy ??= {}) as Obj;
      if (!us.type) {
        us.type = 'RollingUpdate';
        us.rollingUpdate ??= {};
      }
      if (us.type === 'RollingUpdate' && us.rollingUpdate) (us.rollingUpdate as Obj).partition ??= 0;
      const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {}) as Obj;
      retention.whenDeleted ??= 'Retain';
      retention.whenScaled ??= 'Retain';
      defaultPodSpec((spec.template as Obj | undefined)?.spec as Obj | undefined);
      break;
    }
    case 'Service': {
      if (!spec) break;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (opts.creating && spec.clusterIP === undefined) {
        const n = nextClusterIp++;
        spec.clusterIP = `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
        spec.clusterIPs = [spec.clusterIP];
      }
      for (const p of (spec.ports as Obj[] | undefined) ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      break;
    }
    case 'Namespace':
      if (opts.creating) {
        obj.spec = { finalizers: ['kubernetes'], ...(spec ?? {}) };
        obj.status = { phase: 'Active' };
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
      }
      break;
    case 'PodDisruptionBudget':
      break;
  }
}
