import type { ApiFaultSettings, ForbiddenRuleSettings } from '../simSettings.js';

/** Whether a rule naming a resource ("pods", "pods/eviction", "*") and a verb ("patch", "*") covers a request. */
export function ruleMatches(rule: { resource: string; verb: string }, resource: string, subresource: string | undefined, verb: string): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  if (rule.resource !== '*' && rule.resource !== full && rule.resource !== resource) return false;
  // "pods" covers the pods themselves, not their subresources (a fault on pods/eviction names it).
  if (rule.resource === resource && subresource && rule.resource !== full) return false;
  return rule.verb === '*' || rule.verb === verb;
}

/**
 * The first fault rule matching this request that fires, honouring each rule's share (probability).
 * A 409 only hits a request with a precondition (a resourceVersion or UID to match), as on a real
 * API server, where an unconditional patch never conflicts.
 */
export function pickFault(
  faults: ApiFaultSettings[],
  resource: string,
  subresource: string | undefined,
  verb: string,
  random: () => number = Math.random,
  hasPrecondition = false,
): ApiFaultSettings | undefined {
  for (const f of faults) {
    if (!ruleMatches(f, resource, subresource, verb)) continue;
    if (f.code === 409 && !hasPrecondition) continue;
    if (random() < f.share) return f;
  }
  return undefined;
}

/** Whether the simulated user may not do this (RBAC denies it). */
export function isForbidden(rules: ForbiddenRuleSettings[], resource: string, subresource: string | undefined, verb: string): boolean {
  return rules.some((r) => ruleMatches(r, resource, subresource, verb));
}
