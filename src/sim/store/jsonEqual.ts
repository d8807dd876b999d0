/**
 * Deep equality of two JSON values as their serialized form would see it, ignoring key order:
 * properties holding undefined count as absent. The same object on both sides (a subtree a new
 * version shares with the previous one) is equal without being walked, which makes comparing
 * a stored object with its next version cheap.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && arraysEqual(a, b);
  return recordsEqual(a as Record<string, unknown>, b as Record<string, unknown>);
}

function arraysEqual(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
  return true;
}

function recordsEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  let defined = 0;
  for (const key of Object.keys(a)) {
    const v = a[key];
    if (v === undefined) continue;
    defined++;
    if (!jsonEqual(v, b[key])) return false;
  }
  // Every defined property of a is in b; b has nothing more when it has as many defined ones.
  let inB = 0;
  for (const key of Object.keys(b)) if (b[key] !== undefined) inB++;
  return inB === defined;
}
