import { describe, expect, it } from 'vitest';
import { parseStepsValue, selectSteps } from './stepSelection.js';

describe('step selection', () => {
  it('parses --steps forms', () => {
    expect(parseStepsValue('all')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parseStepsValue('0-2')).toEqual([0, 1, 2]);
    expect(parseStepsValue('4,0,1')).toEqual([0, 1, 4]);
    expect(() => parseStepsValue('6')).toThrow(/out of range/);
    expect(() => parseStepsValue('two')).toThrow(/"two" is not a step/);
  });

  it("maps the seed's flags, node lists included", () => {
    expect(selectSteps({ stepAll: true })).toEqual({ steps: [0, 1, 2, 3, 4, 5] });
    expect(selectSteps({ stepPreflight: true, stepPrepare: true })).toEqual({ steps: [0, 1] });
    expect(selectSteps({ stepRollNodes: 'node-1, node-2' })).toEqual({ steps: [2], nodes: { 2: ['node-1', 'node-2'] } });
    expect(selectSteps({ stepMigrateNodes: 'node-3', stepCleanUp: true })).toEqual({ steps: [4, 5], nodes: { 4: ['node-3'] } });
    expect(selectSteps({ steps: '2-4', nodes: 'a' })).toEqual({ steps: [2, 3, 4], nodes: { 2: ['a'], 3: ['a'], 4: ['a'] } });
  });

  it('refuses conflicting and empty selections', () => {
    expect(() => selectSteps({ steps: 'all', stepPrepare: true })).toThrow('--steps cannot be combined with the --step-* flags');
    expect(() => selectSteps({ stepRollAllNodes: true, stepRollNodes: 'a' })).toThrow('conflict');
    expect(() => selectSteps({})).toThrow('no step selected');
    expect(() => selectSteps({ steps: '0,1', nodes: 'a' })).toThrow('--nodes applies to the per-node steps');
    expect(() => selectSteps({ stepMigrateNodes: ' , ' })).toThrow('--step-migrate-nodes needs a comma-separated list');
  });
});
