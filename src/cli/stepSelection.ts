import type { StepId, StepSelection } from '../migration/steps.js';
import { UsageError } from './errors.js';

/** The step flags of `run`/`plan` and the seed's root flags, as parsed by commander. */
export interface StepFlags {
  steps?: string | undefined;
  nodes?: string | undefined;
  stepAll?: boolean | undefined;
  stepPreflight?: boolean | undefined;
  stepPrepare?: boolean | undefined;
  stepRollAllNodes?: boolean | undefined;
  stepRollNodes?: string | undefined;
  stepChangeCniAllPriority?: boolean | undefined;
  stepChangeCniPriority?: string | undefined;
  stepMigrateAllNodes?: boolean | undefined;
  stepMigrateNodes?: string | undefined;
  stepCleanUp?: boolean | undefined;
}

const ALL: StepId[] = [0, 1, 2, 3, 4, 5];

function parseNodeList(flag: string, value: string): string[] {
  const nodes = value.split(',').map((n) => n.trim()).filter(Boolean);
  if (nodes.length === 0) throw new UsageError(`${flag} needs a comma-separated list of node names`);
  return nodes;
}

/** Parses --steps: "all", "3", "0-5", "0,1,4". */
export function parseStepsValue(value: string): StepId[] {
  const v = value.trim().toLowerCase();
  if (v === 'all') return [...ALL];
  const out = new Set<StepId>();
  for (const part of v.split(',')) {
    const m = /^(\d)(?:-(\d))?$/.exec(part.trim());
    if (!m) throw new UsageError(`--steps: "${part}" is not a step; use all, a step number 0-5, a range such as 0-3, or a list such as 0,1`);
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    if (from > 5 || to > 5 || to < from) throw new UsageError(`--steps: "${part}" is out of range; steps are 0 (preflight) to 5 (clean-up)`);
    for (let s = from; s <= to; s++) out.add(s as StepId);
  }
  return [...out].sort((a, b) => a - b);
}

/** Turns the step flags into a selection; conflicting or empty selections are usage errors. */
export function selectSteps(f: StepFlags): StepSelection {
  const seed: StepId[] = [];
  const nodes: NonNullable<StepSelection['nodes']> = {};
  if (f.stepAll) seed.push(...ALL);
  if (f.stepPreflight) seed.push(0);
  if (f.stepPrepare) seed.push(1);
  if (f.stepRollAllNodes) seed.push(2);
  if (f.stepChangeCniAllPriority) seed.push(3);
  if (f.stepMigrateAllNodes) seed.push(4);
  if (f.stepCleanUp) seed.push(5);
  const nodeFlag = (flag: string, value: string | undefined, step: 2 | 3 | 4, allFlag: boolean | undefined, allName: string) => {
    if (value === undefined) return;
    if (allFlag) throw new UsageError(`${flag} and ${allName} conflict: pick one`);
    seed.push(step);
    nodes[step] = parseNodeList(flag, value);
  };
  nodeFlag('--step-roll-nodes', f.stepRollNodes, 2, f.stepRollAllNodes, '--step-roll-all-nodes');
  nodeFlag('--step-change-cni-priority', f.stepChangeCniPriority, 3, f.stepChangeCniAllPriority, '--step-change-cni-all-priority');
  nodeFlag('--step-migrate-nodes', f.stepMigrateNodes, 4, f.stepMigrateAllNodes, '--step-migrate-all-nodes');
  if (f.steps !== undefined && seed.length) throw new UsageError('--steps cannot be combined with the --step-* flags: use one or the other');
  const steps = f.steps !== undefined ? parseStepsValue(f.steps) : [...new Set(seed)].sort((a, b) => a - b);
  if (f.nodes !== undefined) {
    const list = parseNodeList('--nodes', f.nodes);
    const perNode = steps.filter((s): s is 2 | 3 | 4 => s === 2 || s === 3 || s === 4);
    if (perNode.length === 0) throw new UsageError('--nodes applies to the per-node steps 2, 3 and 4; none is selected');
    for (const s of perNode) nodes[s] ??= list;
  }
  if (steps.length === 0) throw new UsageError('no step selected: use --steps all (or e.g. --steps 0-2), or the seed flags such as --step-all');
  return Object.keys(nodes).length ? { steps, nodes } : { steps };
}
