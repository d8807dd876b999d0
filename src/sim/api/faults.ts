import type { ApiFaultSettings } from '../simSettings.js';

/** The first fault rule matching this request that fires, honouring each rule's share (probability). */
export function pickFault(
  faults: ApiFaultSettings[],
  resource: string,
  subresource: string | undefined,
  verb: string,
  random: () => number = Math.random,
): ApiFaultSettings | undefined {
  const full = subresource ? `${resource}/${subresource}` : resource;
  for (const f of faults) {
    if (f.resource !== '*' && f.resource !== full && f.resource !== resource) continue;
    if (f.resource === resource && subresource && f.resource !== full) continue;
    if (f.verb !== '*' && f.verb !== verb) continue;
    if (random() < f.share) return f;
  }
  return undefined;
}
