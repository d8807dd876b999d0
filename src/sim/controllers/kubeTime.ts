/** Time as Kubernetes serialises it (metav1.Time): RFC 3339 with second precision. */

/** A metav1.Time string for the given instant (now by default). */
export function kubeTime(at: number | Date = Date.now()): string {
  const d = typeof at === 'number' ? new Date(at) : at;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch of a metav1.Time string, or undefined when absent or invalid. */
export function parseKubeTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
