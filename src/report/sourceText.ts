import { describeOverlay, type SourceDescription } from '../source/sourceTypes.js';

/** The source description as text: each fact and where it was read. */
export function renderSourceText(s: SourceDescription): string {
  const rows: [string, string, string][] = [
    ['DaemonSet', `${s.daemonSet.namespace}/${s.daemonSet.name}`, s.installation ? `the Tigera operator's rendering of Installation ${s.installation.name}` : ''],
    ['CNI directory', s.confDir.value, s.confDir.from],
    ['CNI file', s.confFile.value, s.confFile.from],
    ['CNI network', s.networkName.value, s.networkName.from],
    ['Pod CIDR', s.podCIDRs.value.join(', '), s.podCIDRs.from],
    ['Overlay', describeOverlay(s.overlay.value), s.overlay.from],
    ['MTU', s.mtu ? String(s.mtu.value) : 'automatic', s.mtu?.from ?? ''],
    ['NetworkPolicy', s.policyEnforcement === 'calico' ? 'enforced by Calico (felix)' : 'not enforced (Flannel has no policy engine)', ''],
  ];
  if (s.ipAutodetection) {
    const a = s.ipAutodetection;
    rows.push(['IP autodetection', `${a.method}${a.picksCiliumHost ? ' — would pick cilium_host once Cilium runs (cilium#31273)' : ''}`, a.setting]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = [`Source CNI: ${s.kind} (${s.install === 'operator' ? 'Tigera operator install' : 'manifest install'})`];
  for (const [k, v, from] of rows) lines.push(`  ${k.padEnd(w)}  ${v}${from ? `\n  ${''.padEnd(w)}    from ${from}` : ''}`);
  for (const warning of s.warnings) lines.push(`warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}
