/** intstr.IntOrString as JSON: a number, or a string such as "25%". */
export type IntOrPercent = number | string;

/**
 * intstr.GetScaledValueFromIntOrPercent: an int is taken as is; "N%" is N percent of total, rounded
 * up or down. Anything else is an error, as in Kubernetes.
 */
export function scaledValue(value: IntOrPercent | undefined | null, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) throw new Error('nil value for IntOrString');
  if (typeof value === 'number') return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const product = Number(m[1]) * total;
  return roundUp ? Math.ceil(product / 100) : Math.floor(product / 100);
}
