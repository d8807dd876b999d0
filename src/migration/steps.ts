/** The seed's migration steps, in order. */
export const STEPS = [
  { id: 0, name: 'preflight', title: 'Preflight: probe DaemonSets deployed and every pod pair reachable' },
  { id: 1, name: 'prepare', title: 'Prepare: label nodes, pin Canal, install Cilium and Multus side by side' },
  { id: 2, name: 'roll', title: 'Roll: re-create every pod so it gets a Cilium interface beside its Flannel one' },
  { id: 3, name: 'priority', title: 'Priority: make Cilium the primary network, node by node' },
  { id: 4, name: 'migrate', title: 'Migrate: move each node to Cilium only' },
  { id: 5, name: 'clean-up', title: 'Clean up: remove Multus, Canal and the first Cilium' },
] as const;

/** A step number, 0..5. */
export type StepId = (typeof STEPS)[number]['id'];

/** What the user asked to run: steps, and for the per-node steps optionally which nodes. */
export interface StepSelection {
  steps: StepId[];
  /** Restricts steps 2, 3 and 4 to these nodes (in this order); all nodes when absent. */
  nodes?: Partial<Record<2 | 3 | 4, string[]>>;
}

/** The step's short name, e.g. "roll". */
export function stepName(id: StepId): string {
  return STEPS[id].name;
}
