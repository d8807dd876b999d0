import { describe, expect, it } from 'vitest';
import { multusStrategy } from '../migration/strategies/multus/multusStrategy.js';
import type { Strategy } from '../migration/strategy.js';
import { mergeStepFlags, parseStepsValue, selectSteps } from './stepSelection.js';

const M = multusStrategy;
/** A second strategy shape, to prove step parsing follows the strategy, not the seed's numbers. */
const THREE: Strategy = {
  ...multusStrategy,
  name: 'three',
  steps: [
    { id: 0, name: 'preflight', title: '', perNode: false },
    { id: 1, name: 'migrate', title: '', perNode: true },
    { id: 2, name: 'clean-up', title: '', perNode: false },
  ],
};

describe('step selection', () => {
  it('parses --steps forms, numbers and names', () => {
    expect(parseStepsValue('all', M)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parseStepsValue('0-2', M)).toEqual([0, 1, 2]);
    expect(parseStepsValue('4,0,1', M)).toEqual([0, 1, 4]);
    expect(parseStepsValue('roll', M)).toEqual([2]);
    expect(parseStepsValue('prepare-priority', M)).toEqual([1, 2, 3]);
    expect(parseStepsValue('migrate-clean-up', M)).toEqual([4, 5]);
    expect(parseStepsValue('clean-up', THREE)).toEqual([2]);
    expect(parseStepsValue('all', THREE)).toEqual([0, 1, 2]);
    expect(() => parseStepsValue('6', M)).toThrow(/out of range; the multus strategy's steps are 0 preflight, 1 prepare/);
    expect(() => parseStepsValue('3', THREE)).toThrow(/out of range/);
    expect(() => parseStepsValue('two', M)).toThrow(/"two" is not a step of the multus strategy/);
  });

  it("maps the seed's flags, node lists included", () => {
    expect(selectSteps({ stepAll: true }, M)).toEqual({ steps: [0, 1, 2, 3, 4, 5] });
    expect(selectSteps({ stepPreflight: true, stepPrepare: true }, M)).toEqual({ steps: [0, 1] });
    expect(selectSteps({ stepRollNodes: 'node-1, node-2' }, M)).toEqual({ steps: [2], nodes: { 2: ['node-1', 'node-2'] } });
    expect(selectSteps({ stepMigrateNodes: 'node-3', stepCleanUp: true }, M)).toEqual({ steps: [4, 5], nodes: { 4: ['node-3'] } });
    expect(selectSteps({ steps: '2-4', nodes: 'a' }, M)).toEqual({ steps: [2, 3, 4], nodes: { 2: ['a'], 3: ['a'], 4: ['a'] } });
  });

  it("gives the seed's node-list flags one meaning whether they come before or after the subcommand", () => {
    // `cni-migration run --step-roll-nodes a`: commander hands the flag to the root command.
    const root = { stepRollNodes: 'a', kubeconfig: 'k' };
    const run = { steps: undefined, nodes: undefined };
    expect(selectSteps(mergeStepFlags(root, run), M)).toEqual({ steps: [2], nodes: { 2: ['a'] } });
    expect(selectSteps(mergeStepFlags({}, { stepMigrateNodes: 'b,c' }), M)).toEqual({ steps: [4], nodes: { 4: ['b', 'c'] } });
  });

  it('refuses conflicting and empty selections', () => {
    expect(() => selectSteps({ steps: 'all', stepPrepare: true }, M)).toThrow('--steps cannot be combined with the --step-* flags');
    expect(() => selectSteps({ stepRollAllNodes: true, stepRollNodes: 'a' }, M)).toThrow('conflict');
    expect(() => selectSteps({}, M)).toThrow('no step selected');
    expect(() => selectSteps({ steps: '0,1', nodes: 'a' }, M)).toThrow('--nodes applies to the per-node steps (2 roll, 3 priority, 4 migrate)');
    expect(() => selectSteps({ stepMigrateNodes: ' , ' }, M)).toThrow('--step-migrate-nodes needs a comma-separated list');
    expect(() => selectSteps({ stepPrepare: true }, THREE)).toThrow("the --step-* flags name the multus strategy's steps; with --strategy three use --steps");
  });
});
