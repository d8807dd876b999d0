import { randomInt } from 'node:crypto';

// The alphabet kube-apiserver uses for generateName suffixes (no vowels, no confusable characters).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A name built from a generateName prefix plus five random characters, as the API server does. */
export function generateObjectName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${prefix.slice(0, 58)}${suffix}`;
}
