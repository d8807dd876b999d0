// The source CNI as read from the cluster: what the migration renders its manifests from and
// checks its plan against. Every fact says where it was read, so `detect` can show its working
// and a wrong guess can be traced.

/** The CNIs a migration can start from. */
export type SourceKind = 'canal' | 'calico' | 'flannel';

/** How the source was installed: plain manifests, or the Tigera operator (patch its Installation, not its objects). */
export type SourceInstall = 'manifest' | 'operator';

/** How the source carries pod traffic between nodes. */
export type SourceOverlay =
  | { type: 'vxlan'; port: number; vni: number; crossSubnet: boolean }
  | { type: 'ipip'; crossSubnet: boolean }
  /** Calico without encapsulation: BGP-distributed routes. */
  | { type: 'bgp' }
  /** flannel host-gw: plain routes to each node's subnet. */
  | { type: 'host-gw' }
  | { type: 'other'; backend: string };

/** Calico's node address autodetection, and whether Cilium's cilium_host can capture it. */
export interface IpAutodetection {
  /** The method in force, e.g. "first-found", "kubernetes-internal-ip", "interface=eth.*", "literal". */
  method: string;
  /** Where it is set (or would be): an env var of calico-node, or the Installation field. */
  setting: string;
  /** True when the method would pick cilium_host once Cilium's agent creates it (cilium#31273). */
  picksCiliumHost: boolean;
}

/** A fact with where it came from. */
export interface Sourced<T> {
  value: T;
  from: string;
}

/** The source CNI, as discovered (and possibly overridden by the cni.* settings). */
export interface SourceDescription {
  kind: SourceKind;
  install: SourceInstall;
  /** The agent DaemonSet. */
  daemonSet: { namespace: string; name: string };
  /** Operator installs: the Installation that renders the DaemonSet. */
  installation?: { name: string } | undefined;
  /** The kubelet's CNI configuration directory on the nodes (the host side of the installer's mount). */
  confDir: Sourced<string>;
  /** The file the source's installer writes there. */
  confFile: Sourced<string>;
  /** The CNI network name in that file ("k8s-pod-network", "cbr0"). */
  networkName: Sourced<string>;
  /** The pod address ranges (IPv4). */
  podCIDRs: Sourced<string[]>;
  overlay: Sourced<SourceOverlay>;
  /** MTU where it is set explicitly; undefined means automatic. */
  mtu?: Sourced<number> | undefined;
  /** Calico sources only. */
  ipAutodetection?: IpAutodetection | undefined;
  /** Who enforces NetworkPolicy today. */
  policyEnforcement: 'calico' | 'none';
  /** Things noticed while reading that the user should know (never fatal). */
  warnings: string[];
}

/** UDP ports a source's overlay binds on every node (for collision checks). */
export function overlayUdpPorts(o: SourceOverlay): number[] {
  return o.type === 'vxlan' ? [o.port] : [];
}

/** One line for an overlay: "VXLAN, UDP 8472, VNI 1". */
export function describeOverlay(o: SourceOverlay): string {
  switch (o.type) {
    case 'vxlan':
      return `VXLAN${o.crossSubnet ? ' (cross-subnet only)' : ''}, UDP ${o.port}, VNI ${o.vni}`;
    case 'ipip':
      return `IP-in-IP${o.crossSubnet ? ' (cross-subnet only)' : ''} (IP protocol 4)`;
    case 'bgp':
      return 'no encapsulation (BGP routes)';
    case 'host-gw':
      return 'no encapsulation (host-gw routes)';
    case 'other':
      return `flannel backend ${o.backend}`;
  }
}
