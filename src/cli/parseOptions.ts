import { InvalidArgumentError } from 'commander';

/** An argParser for integer flags within [min, max], with a message naming the flag. */
export function parseIntOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}
