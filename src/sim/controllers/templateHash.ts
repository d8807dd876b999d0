import { stableJson } from './stableJson.js';

// The alphabet of k8s.io/apimachinery/pkg/util/rand.SafeEncodeString (no vowels, no look-alikes).
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a 32-bit hash of a string's UTF-8 bytes. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * A stable hash of a pod template, shaped like controller.ComputeHash's output: the decimal FNV-32a
 * value spelled with SafeEncodeString. Used for `pod-template-hash` and `controller-revision-hash`.
 */
export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  const salt = collisionCount ? `#${collisionCount}` : '';
  const digits = String(fnv32a(stableJson(template) + salt));
  let out = '';
  for (const ch of digits) out += SAFE_ALPHANUMS[ch.charCodeAt(0) % SAFE_ALPHANUMS.length];
  return out;
}
