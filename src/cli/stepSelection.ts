import type { StepSelection } from '../migration/planBuilder.js';
import type { Strategy } from '../migration/strategy.js';
import { UsageError } from './errors.js';

/** The step flags of `run`/`plan` and the seed's flags, as parsed by commander (from any command). */
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

/** The seed's flags name the multus strategy's steps by number. */
const SEED_STRATEGY = 'multus';

/** Whether any of the seed's --step-* flags is set. */
export function hasSeedStepFlags(f: StepFlags): boolean {
  return Object.entries(f).some(([k, v]) => k.startsWith('step') && k !== 'steps' && v !== undefined && v !== false);
}

/** Merges the step flags of the root command and a subcommand (the seed's flags work before or after it). */
export function mergeStepFlags(...sources: StepFlags[]): StepFlags {
  const out: StepFlags = {};
  for (const s of sources) for (const [k, v] of Object.entries(s)) if (v !== undefined && (k in out ? v !== false : true)) (out as Record<string, unknown>)[k] = v;
  return out;
}

function parseNodeList(flag: string, value: string): string[] {
  const nodes = value.split(',').map((n) => n.trim()).filter(Boolean);
  if (nodes.length === 0) throw new UsageError(`${flag} needs a comma-separated list of node names`);
  return nodes;
}

function stepList(strategy: Strategy): string {
  return strategy.steps.map((s) => `${s.id} ${s.name}`).join(', ');
}

/** Parses --steps: "all", "3", "0-5", "0,1,4", or step names ("roll", "prepare-migrate"). */
export function parseStepsValue(value: string, strategy: Strategy): number[] {
  const v = value.trim().toLowerCase();
  const last = strategy.steps.length - 1;
  if (v === 'all') return strategy.steps.map((s) => s.id);
  const idOf = (token: string): number | undefined => {
    if (/^\d+$/.test(token)) return Number(token);
    return strategy.steps.find((s) => s.name === token)?.id;
  };
  const out = new Set<number>();
  for (const part of v.split(',')) {
    const p = part.trim();
    let from = idOf(p);
    let to = from;
    // A range "a-b": names may hold dashes themselves ("clean-up"), so try every split.
    for (let i = p.indexOf('-'); from === undefined && i > 0; i = p.indexOf('-', i + 1)) {
      const a = idOf(p.slice(0, i));
      const b = idOf(p.slice(i + 1));
      if (a !== undefined && b !== undefined) [from, to] = [a, b];
    }
    if (from === undefined || to === undefined) throw new UsageError(`--steps: "${part}" is not a step of the ${strategy.name} strategy; use all, a step number 0-${last}, a range such as 0-2, a list such as 0,1, or a name (${stepList(strategy)})`);
    if (from > last || to > last || to < from) throw new UsageError(`--steps: "${part}" is out of range; the ${strategy.name} strategy's steps are ${stepList(strategy)}`);
    for (let s = from; s <= to; s++) out.add(s);
  }
  return [...out].sort((a, b) => a - b);
}

/** Turns the step flags into a selection for a strategy; conflicting or empty selections are usage errors. */
export function selectSteps(f: StepFlags, strategy: Strategy): StepSelection {
  const seedFlags = hasSeedStepFlags(f);
  if (seedFlags && strategy.name !== SEED_STRATEGY) throw new UsageError(`the --step-* flags name the ${SEED_STRATEGY} strategy's steps; with --strategy ${strategy.name} use --steps (${stepList(strategy)})`);
  const seed: number[] = [];
  const nodes: Record<number, string[]> = {};
  if (f.stepAll) seed.push(0, 1, 2, 3, 4, 5);
  if (f.stepPreflight) seed.push(0);
  if (f.stepPrepare) seed.push(1);
  if (f.stepRollAllNodes) seed.push(2);
  if (f.stepChangeCniAllPriority) seed.push(3);
  if (f.stepMigrateAllNodes) seed.push(4);
  if (f.stepCleanUp) seed.push(5);
  const nodeFlag = (flag: string, value: string | undefined, step: number, allFlag: boolean | undefined, allName: string) => {
    if (value === undefined) return;
    if (allFlag) throw new UsageError(`${flag} and ${allName} conflict: pick one`);
    seed.push(step);
    nodes[step] = parseNodeList(flag, value);
  };
  nodeFlag('--step-roll-nodes', f.stepRollNodes, 2, f.stepRollAllNodes, '--step-roll-all-nodes');
  nodeFlag('--step-change-cni-priority', f.stepChangeCniPriority, 3, f.stepChangeCniAllPriority, '--step-change-cni-all-priority');
  nodeFlag('--step-migrate-nodes', f.stepMigrateNodes, 4, f.stepMigrateAllNodes, '--step-migrate-all-nodes');
  if (f.steps !== undefined && seed.length) throw new UsageError('--steps cannot be combined with the --step-* flags: use one or the other');
  const steps = f.steps !== undefined ? parseStepsValue(f.steps, strategy) : [...new Set(seed)].sort((a, b) => a - b);
  if (f.nodes !== undefined) {
    const list = parseNodeList('--nodes', f.nodes);
    const perNode = steps.filter((s) => strategy.steps[s]?.perNode);
    const perNodeNames = strategy.steps.filter((s) => s.perNode).map((s) => `${s.id} ${s.name}`);
    if (perNode.length === 0) throw new UsageError(`--nodes applies to the per-node steps (${perNodeNames.join(', ')}); none is selected`);
    for (const s of perNode) nodes[s] ??= list;
  }
  if (steps.length === 0) throw new UsageError(`no step selected: use --steps all (or e.g. --steps 0-2)${strategy.name === SEED_STRATEGY ? ", or the seed's flags such as --step-all" : ''}`);
  return Object.keys(nodes).length ? { steps, nodes } : { steps };
}
