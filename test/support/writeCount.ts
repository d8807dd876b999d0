/**
 * Mutating requests the simulated API server has answered, from its request counts. A
 * SelfSubjectAccessReview (the preflight's permission checks) is a POST that stores nothing, so
 * it is not a write.
 */
export function writeCount(requestCounts: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const [key, count] of requestCounts) if (/^(create|update|patch|delete|deletecollection) /.test(key) && !key.endsWith(' selfsubjectaccessreviews')) n += count;
  return n;
}
