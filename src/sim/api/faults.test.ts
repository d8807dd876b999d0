import { describe, expect, it } from 'vitest';
import { isForbidden, pickFault, ruleMatches } from './faults.js';

const always = () => 0;

describe('fault rules', () => {
  it('match a resource, its named subresource, or everything; a verb or any', () => {
    expect(ruleMatches({ resource: 'pods', verb: 'patch' }, 'pods', undefined, 'patch')).toBe(true);
    expect(ruleMatches({ resource: 'pods', verb: 'patch' }, 'pods', 'eviction', 'patch')).toBe(false);
    expect(ruleMatches({ resource: 'pods/eviction', verb: '*' }, 'pods', 'eviction', 'create')).toBe(true);
    expect(ruleMatches({ resource: '*', verb: 'get' }, 'nodes', undefined, 'list')).toBe(false);
  });

  it('the first rule that fires answers; a 409 only hits a write with a precondition and falls through otherwise', () => {
    const faults = [
      { resource: 'nodes', verb: 'patch', share: 1, code: 409 },
      { resource: '*', verb: 'patch', share: 1, code: 500 },
    ];
    expect(pickFault(faults, 'nodes', undefined, 'patch', always, true)?.code).toBe(409);
    expect(pickFault(faults, 'nodes', undefined, 'patch', always, false)?.code).toBe(500);
    expect(pickFault([{ resource: 'nodes', verb: 'patch', share: 0.5, code: 500 }], 'nodes', undefined, 'patch', () => 0.49)?.code).toBe(500);
    expect(pickFault([{ resource: 'nodes', verb: 'patch', share: 0.5, code: 500 }], 'nodes', undefined, 'patch', () => 0.5)).toBeUndefined();
  });

  it('forbidden rules deny the verbs they name', () => {
    const rules = [{ resource: 'pods/eviction', verb: 'create' }];
    expect(isForbidden(rules, 'pods', 'eviction', 'create')).toBe(true);
    expect(isForbidden(rules, 'pods', undefined, 'create')).toBe(false);
  });
});
