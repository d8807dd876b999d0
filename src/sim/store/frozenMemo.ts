// Stands for a remembered undefined, which WeakMap.get cannot tell from "not remembered".
const UNDEFINED = Symbol('undefined');

/**
 * fn, remembered per argument when the argument is frozen. Stored objects are frozen and never
 * change (a write stores a new object), so a fact about one holds for good; and a controller
 * going over the 28 000 pods of a ReplicaSet reads a small remembered value instead of walking
 * each pod's scattered parts again on every reconcile. Unfrozen arguments (drafts, test objects)
 * are computed every time.
 */
export function memoizeFrozen<K extends object, T>(fn: (arg: K) => T): (arg: K) => T {
  const memo = new WeakMap<K, T | typeof UNDEFINED>();
  return (arg) => {
    if (!Object.isFrozen(arg)) return fn(arg);
    const known = memo.get(arg);
    if (known !== undefined) return known === UNDEFINED ? (undefined as T) : known;
    const value = fn(arg);
    memo.set(arg, value === undefined ? UNDEFINED : value);
    return value;
  };
}
