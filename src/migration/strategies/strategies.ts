import type { Strategy } from '../strategy.js';
import { dualOverlayStrategy } from './dualOverlay/dualOverlayStrategy.js';
import { multusStrategy } from './multus/multusStrategy.js';

/** Every strategy, by name; the first is the default. */
export const STRATEGIES: readonly Strategy[] = [multusStrategy, dualOverlayStrategy];

/** The strategy used when neither --strategy nor the cluster's record names one. */
export const DEFAULT_STRATEGY = multusStrategy.name;

/** The names, for help texts and errors. */
export function strategyNames(): string[] {
  return STRATEGIES.map((s) => s.name);
}

/** A strategy by name; undefined when there is none. */
export function findStrategy(name: string): Strategy | undefined {
  return STRATEGIES.find((s) => s.name === name);
}
